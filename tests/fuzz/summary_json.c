/* summary_json.c - fuzz harness of the reader of a training run's summary.json, which
 * `layerpipe report --runs` reads back through the YAML document reader (ydoc_load,
 * then the config_hash under the root mapping).
 * Checks: a refusal carries a message; an accepted document is a well-formed tree
 * (positions from 1, scalars with text, keys that are scalars and unique, as ydoc.h
 * promises, so ynode_get finds each key's own value), and each node written as one
 * line of flow YAML (ynode_write_flow, what a sweep records a value with) parses back
 * to the same tree. */
#include "../../sw/config/ydoc.h"

#include "fuzz.h"

static void check_tree(const struct ynode *n, int depth)
{
    FUZZ_CHECK(n && depth < 1000);
    FUZZ_CHECK(n->line >= 1 && n->col >= 1 && n->file);
    if (n->kind == YNODE_SCALAR) {
        FUZZ_CHECK(n->text && n->n == 0);
        return;
    }
    FUZZ_CHECK(n->kind == YNODE_SEQ || n->kind == YNODE_MAP);
    FUZZ_CHECK(n->n >= 0 && (n->n == 0 || n->items));
    for (int i = 0; i < n->n; i++) {
        check_tree(n->items[i], depth + 1);
        if (n->kind == YNODE_MAP) {
            FUZZ_CHECK(n->keys && n->keys[i] && n->keys[i]->kind == YNODE_SCALAR);
            FUZZ_CHECK(ynode_get(n, n->keys[i]->text) == n->items[i]);
        }
    }
}

/* Same kinds, texts and keys (not positions, not whether a scalar was quoted). */
static int same_tree(const struct ynode *a, const struct ynode *b)
{
    if (a->kind != b->kind || a->n != b->n)
        return 0;
    if (a->kind == YNODE_SCALAR)
        return !strcmp(a->text, b->text);
    for (int i = 0; i < a->n; i++)
        if ((a->kind == YNODE_MAP && !same_tree(a->keys[i], b->keys[i])) ||
            !same_tree(a->items[i], b->items[i]))
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write("summary.json", data, size);
    struct ydoc doc, back;
    struct diag d = {0};
    if (ydoc_load(&doc, path, &d)) {
        FUZZ_REFUSED(d);
        return 0;
    }
    const struct ynode *root = doc.root;
    if (fuzz_inject() && root)
        doc.root->line = 0;
    if (root) {
        check_tree(root, 0);
        const struct ynode *h = root->kind == YNODE_MAP ? ynode_get(root, "config_hash") : NULL;
        FUZZ_CHECK(!h || h->text || h->kind != YNODE_SCALAR);

        char *text = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&text, &len);
        FUZZ_CHECK(m);
        ynode_write_flow(root, m);
        FUZZ_CHECK(fclose(m) == 0);
        int rc = ydoc_load_string(&back, "flow", text, &d);
        if (rc)
            fprintf(stderr, "flow: %s\n%s\n", d.msg, text);
        FUZZ_CHECK(rc == 0 && back.root);
        if (!same_tree(root, back.root))
            fprintf(stderr, "flow:\n%s\n", text);
        FUZZ_CHECK(same_tree(root, back.root));
        ydoc_free(&back);
        free(text);
    }
    ydoc_free(&doc);
    return 0;
}
