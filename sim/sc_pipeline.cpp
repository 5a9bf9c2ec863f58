// The SystemC system model of the pipeline (scp.h): stages, registers as channels, a
// step sequencer, the host's loss, and one shared off-chip memory behind TLM-2.0
// blocking transport. One clock cycle is one nanosecond of simulated time.
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <ostream>
#include <vector>

#include <systemc.h>
#include <tlm.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/multi_passthrough_target_socket.h>

#include "scp.h"
#include "scp_bank.h"

namespace {

sc_time cyc(int64_t n)
{
    return sc_time(static_cast<double>(n), SC_NS);
}

int64_t cycles_of(const sc_time &t)
{
    return static_cast<int64_t>(std::llround(t.to_seconds() * 1e9));
}

// What a register between stages holds.
struct Token {
    bool valid = false;
    int64_t mb = -1;
    bool operator==(const Token &o) const { return valid == o.valid && mb == o.mb; }
};

std::ostream &operator<<(std::ostream &os, const Token &t)
{
    return os << (t.valid ? "mb " : "empty ") << t.mb;
}

// sc_signal<Token> needs a trace function (found by argument-dependent lookup);
// registers are not traced.
inline void sc_trace(sc_trace_file *, const Token &, const std::string &) {}

// The off-chip memory, shared by every stage (one socket, many initiators): one transfer
// at a time at bytes_per_cycle, each answered after latency.
SC_MODULE(Memory) {
    tlm_utils::multi_passthrough_target_socket<Memory> socket;
    double bytes_per_cycle;
    int64_t latency;
    sc_time busy_until;

    Memory(sc_module_name name, double bw, int64_t lat)
        : sc_module(name), socket("socket"), bytes_per_cycle(bw), latency(lat),
          busy_until(SC_ZERO_TIME)
    {
        socket.register_b_transport(this, &Memory::b_transport);
    }

    // Timing only: the payload's length says how many bytes move; no data is kept.
    void b_transport(int, tlm::tlm_generic_payload &t, sc_time &delay)
    {
        const sc_time now = sc_time_stamp() + delay;
        const sc_time start = std::max(now, busy_until);
        const int64_t xfer = static_cast<int64_t>(
            std::ceil(static_cast<double>(t.get_data_length()) / bytes_per_cycle));
        busy_until = start + cyc(xfer);
        delay += (start - now) + cyc(latency + xfer);
        t.set_response_status(tlm::TLM_OK_RESPONSE);
    }
};

SC_MODULE(Stage) {
    tlm_utils::simple_initiator_socket<Stage> mem;
    const scp_params *p;
    int k;                                  // 1..M
    sc_signal<Token> *fin = nullptr, *bin = nullptr, *fout = nullptr, *bout = nullptr;
    scp_bank *bank = nullptr;               // the Verilated stages, or none: behavioural
    sc_event cmd_ev, done_ev, *loss_wait_ev = nullptr, *loss_ready_ev = nullptr;
    bool do_fwd = false, do_bwd = false, wait_loss = false, done = true;
    int64_t fmb = -1, bmb = -1;             // what this step's forward and backward serve
    int64_t step = 0;
    // This step's accounting.
    int64_t rn = 0, lw = 0, memw = 0, rd_bytes = 0, wr_bytes = 0;
    double spill[3] = {0, 0, 0};            // off-chip fraction: weights, activations, history
    unsigned char dummy[8] = {0};
    std::deque<int64_t> bmbs;               // minibatches forwarded, waiting for their backward

    SC_HAS_PROCESS(Stage);
    Stage(sc_module_name name, const scp_params *params, int stage)
        : sc_module(name), mem("mem"), p(params), k(stage)
    {
        SC_THREAD(main);
    }

    void transfer(tlm::tlm_command cmd, int64_t bytes)
    {
        if (bytes <= 0)
            return;
        tlm::tlm_generic_payload t;
        sc_time delay = SC_ZERO_TIME;
        t.set_command(cmd);
        t.set_address(0);
        t.set_data_ptr(dummy);
        t.set_data_length(static_cast<unsigned>(std::min<int64_t>(bytes, 0xffffffffLL)));
        t.set_streaming_width(t.get_data_length());
        mem->b_transport(t, delay);
        memw += cycles_of(delay);
        (cmd == tlm::TLM_READ_COMMAND ? rd_bytes : wr_bytes) += bytes;
        wait(delay);
    }

    // The off-chip share of what a command touches, before (reads) and after (writes).
    int64_t share(int64_t words, int cls) const
    {
        return static_cast<int64_t>(std::floor(4.0 * static_cast<double>(words) * spill[cls]));
    }

    void command(int64_t cycles, const scp_access &a)
    {
        transfer(tlm::TLM_READ_COMMAND,
                 share(a.weights_read, 0) + share(a.act_read, 1) + share(a.hist_read, 2));
        wait(cyc(cycles + 2));              // the command, its cycles, the cycle seeing it done
        transfer(tlm::TLM_WRITE_COMMAND,
                 share(a.weights_written, 0) + share(a.act_written, 1) + share(a.hist_written, 2));
    }

    // The Verilated stage: the command in its cycle, then watch it until it is idle,
    // answering its wait for the loss gradient the way the RTL top's host does.
    void rtl_command()
    {
        const sc_time t0 = sc_time_stamp();
        const unsigned bits = SCP_RUN | (do_fwd ? SCP_RUN_FWD : 0u) | (do_bwd ? SCP_RUN_BWD : 0u) |
                              (wait_loss ? SCP_WAIT_LOSS : 0u);
        bank->drive(k - 1, bits);
        wait(cyc(1));
        bank->drive(k - 1, 0);
        for (;;) {
            const unsigned st = bank->status(k - 1);
            if (st & SCP_WAITING_LOSS) {
                const sc_time w = sc_time_stamp();
                loss_wait_ev->notify();
                wait(*loss_ready_ev);
                bank->drive(k - 1, SCP_LOSS_READY);
                wait(cyc(1));
                bank->drive(k - 1, 0);
                lw += cycles_of(sc_time_stamp() - w);
                continue;
            }
            if (st & SCP_IDLE)
                break;
            wait(cyc(1));
        }
        rn += cycles_of(sc_time_stamp() - t0) - 1;
    }

    // The values of this stage's forward and backward, by the C model: forwards last
    // stage first (delta M - k), backwards first stage first (delta M + k - 1), so each
    // reads its register before the stage next to it writes it.
    void compute()
    {
        if (!p->stage_forward || p->sequential)
            return;
        for (int i = 0; i < p->M - k; i++)
            wait(SC_ZERO_TIME);
        p->stage_forward(p->ctx, k, step);
        for (int i = 0; i < 2 * k - 1; i++)
            wait(SC_ZERO_TIME);
        p->stage_backward(p->ctx, k, step);
    }

    // As a run starts, the stage takes what the register before it holds, and the registers
    // after it say what it sends: its forward's minibatch onward, and back the one whose
    // backward it runs (forwarded d steps ago).
    void write_tokens()
    {
        if (do_fwd)
            fmb = fin->read().mb;
        if (fout)
            fout->write(Token{do_fwd, fmb});
        if (do_fwd)
            bmbs.push_back(fmb);
        if (do_bwd && !bmbs.empty()) {
            bmb = bmbs.front();
            bmbs.pop_front();
        }
        if (bout)
            bout->write(Token{do_bwd, bmb});
    }

    void main()
    {
        const scp_stage &s = p->stage[k - 1];
        for (;;) {
            wait(cmd_ev);
            write_tokens();
            if (bank) {
                rtl_command();
                done = true;
                done_ev.notify();
                continue;
            }
            wait(cyc(1));                   // the run's cycle
            const sc_time t0 = sc_time_stamp();
            compute();
            for (int j = 0; do_fwd && j < s.count; j++)
                command(p->layer[s.first + j].fwd, p->layer[s.first + j].fa);
            if (wait_loss) {
                const sc_time w = sc_time_stamp();
                loss_wait_ev->notify();
                wait(*loss_ready_ev);
                wait(cyc(1));               // the cycle the stage sees ready
                lw += cycles_of(sc_time_stamp() - w);
            }
            for (int j = s.count - 1; do_bwd && j >= 0; j--)
                command(p->layer[s.first + j].bwd, p->layer[s.first + j].ba);
            rn += cycles_of(sc_time_stamp() - t0);
            done = true;
            done_ev.notify();
        }
    }
};

SC_MODULE(Pipeline) {
    const scp_params *p;
    std::unique_ptr<Memory> memory;
    std::vector<std::unique_ptr<Stage>> stages;
    std::vector<std::unique_ptr<sc_signal<Token>>> regs;   // input, fwd 1..M-1, bwd 1..M-1
    sc_event loss_wait_ev, loss_ready_ev;
    scp_result *r;
    std::unique_ptr<sc_clock> clock;        // the RTL stages': rising edges at n + 1/2
    std::unique_ptr<scp_bank> bank;

    SC_HAS_PROCESS(Pipeline);
    Pipeline(sc_module_name name, const scp_params *params, scp_result *res,
             scp_bank *(*make_bank)(const char *, sc_clock *))
        : sc_module(name), p(params), r(res)
    {
        memory.reset(new Memory("offchip", p->bytes_per_cycle, p->latency));
        if (make_bank) {
            clock.reset(new sc_clock("clk", cyc(1), 0.5, sc_time(0.5, SC_NS), true));
            bank.reset(make_bank("rtl", clock.get()));
        }
        const int M = p->M;
        for (int i = 0; i < 2 * M - 1; i++)
            regs.emplace_back(new sc_signal<Token>(sc_gen_unique_name("reg")));
        for (int k = 1; k <= M; k++) {
            Stage *s = new Stage(sc_gen_unique_name("stage"), p, k);
            s->mem.bind(memory->socket);
            s->fin = regs[static_cast<size_t>(k - 1)].get();           // input, or fwd k-1
            s->fout = k < M ? regs[static_cast<size_t>(k)].get() : nullptr;
            s->bin = k < M ? regs[static_cast<size_t>(M - 1 + k)].get() : nullptr;
            s->bout = k > 1 ? regs[static_cast<size_t>(M - 1 + k - 1)].get() : nullptr;
            s->loss_wait_ev = &loss_wait_ev;
            s->loss_ready_ev = &loss_ready_ev;
            s->bank = bank.get();
            place(s);
            stages.emplace_back(s);
        }
        SC_THREAD(sequencer);
        SC_THREAD(host_loss);
    }

    // On chip in order: weights, activations, history; the rest off chip.
    void place(Stage *s)
    {
        const scp_stage &st = p->stage[s->k - 1];
        int64_t room = p->onchip_words, need[3] = {st.weight_words, st.act_words, st.hist_words};
        for (int c = 0; c < 3; c++) {
            const int64_t on = std::min(room, need[c]);
            room -= on;
            if (s->bank)   // the RTL stages keep everything on chip
                continue;
            r->offchip_words[s->k - 1][c] = need[c] - on;
            s->spill[c] = need[c] ? static_cast<double>(need[c] - on) / static_cast<double>(need[c]) : 0;
        }
    }

    void host_loss()
    {
        for (;;) {
            wait(loss_wait_ev);
            wait(cyc(p->loss_rows + 1));   // the host writes the gradient, then says ready
            loss_ready_ev.notify();
        }
    }

    void issue(const std::vector<int> &who)
    {
        for (int k : who) {
            Stage *s = stages[static_cast<size_t>(k - 1)].get();
            s->done = false;
            s->cmd_ev.notify();
        }
        for (int k : who)
            while (!stages[static_cast<size_t>(k - 1)]->done)
                wait(stages[static_cast<size_t>(k - 1)]->done_ev);
    }

    // The step's last cycle; the RTL stages' delay lines advance in it.
    void end_step()
    {
        if (bank)
            bank->step(true);
        wait(cyc(1));
        if (bank)
            bank->step(false);
    }

    void sequencer()
    {
        const int M = p->M;
        const int64_t steps = p->sequential ? p->n : p->n + 2 * (M - 1);
        std::vector<int> all;
        for (int k = 1; k <= M; k++)
            all.push_back(k);
        for (int64_t s = 0; s < steps; s++) {
            for (auto &st : stages)
                st->rn = st->lw = st->memw = st->rd_bytes = st->wr_bytes = 0;
            const bool input = s < p->n;
            regs[0]->write(Token{input, input ? s : -1});
            if (p->step_input && !bank) {   // the values: the C model, in zero time
                p->step_input(p->ctx, s);
                if (p->sequential) {        // the model's one stage holds every layer
                    p->stage_forward(p->ctx, 1, s);
                    p->stage_backward(p->ctx, 1, s);
                }
            }
            for (auto &st : stages)
                st->step = s;
            wait(cyc((input ? p->in_rows : 0) + 1));   // the host's input rows, then start
            const sc_time t0 = sc_time_stamp();
            if (!p->sequential) {
                for (int k = 1; k <= M; k++) {
                    Stage *x = stages[static_cast<size_t>(k - 1)].get();
                    x->do_fwd = x->fin->read().valid;
                    x->do_bwd = k < M ? x->bin->read().valid : x->do_fwd;
                    x->wait_loss = k == M && x->do_fwd;
                }
                issue(all);                      // the run's cycle, then the runs
                wait(cyc(1));                    // seen: every stage done
                end_step();
            } else {
                for (int dir = 0; dir < 2; dir++)
                    for (int i = 0; i < (dir ? M - 1 : M); i++) {
                        const int k = dir ? M - 1 - i : i + 1;
                        Stage *x = stages[static_cast<size_t>(k - 1)].get();
                        x->do_fwd = !dir;
                        x->do_bwd = dir || k == M;
                        x->wait_loss = !dir && k == M;
                        issue({k});
                        wait(cyc(1));
                    }
                end_step();
            }
            const int64_t counted = cycles_of(sc_time_stamp() - t0);
            r->cycles[s] = counted + 1 + (input ? p->in_rows : 0);
            for (int k = 1; k <= M; k++) {
                const Stage *x = stages[static_cast<size_t>(k - 1)].get();
                scp_stage_step *o = &r->stage[s * M + k - 1];
                o->busy = x->rn - x->lw - x->memw;
                o->stall_loss = x->lw;
                o->stall_memory = x->memw;
                o->idle = counted - o->busy - o->stall_loss - o->stall_memory;
                o->read_bytes = x->rd_bytes;
                o->write_bytes = x->wr_bytes;
            }
        }
        if (p->finish && p->step_input && !bank)
            p->finish(p->ctx, r->computed);
        sc_stop();
    }
};

int write_all(int fd, const void *buf, size_t n)
{
    const char *b = static_cast<const char *>(buf);
    while (n) {
        const ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w, n -= static_cast<size_t>(w);
    }
    return 0;
}

int read_all(int fd, void *buf, size_t n)
{
    char *b = static_cast<char *>(buf);
    while (n) {
        const ssize_t got = read(fd, b, n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return -1;
        b += got, n -= static_cast<size_t>(got);
    }
    return 0;
}

// In the child: elaborate, simulate, send the result.
[[noreturn]] void child(const scp_params *p, scp_result *r, int fd)
{
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
    const int null = open("/dev/null", O_WRONLY);
    if (null >= 0)
        dup2(null, 1);   // SystemC's reports go to stdout: keep the parent's clean
    sc_report_handler::set_actions(SC_INFO, SC_DO_NOTHING);
    int rc = 0;
    scp_bank *(*make_bank)(const char *, sc_clock *) = nullptr;
    if (p->rtl_lib) {
        void *dl = dlopen(p->rtl_lib, RTLD_NOW | RTLD_LOCAL);
        if (dl)
            *reinterpret_cast<void **>(&make_bank) = dlsym(dl, "scp_bank_create");
        if (!make_bank) {
            std::fprintf(stderr, "cannot load the RTL stages %s: %s\n", p->rtl_lib, dlerror());
            _exit(1);
        }
    }
    {
        Pipeline top("pipeline", p, r, make_bank);
        sc_start();
        rc = write_all(fd, &r->offchip_words, sizeof r->offchip_words) ||
             write_all(fd, r->computed, sizeof r->computed) ||
             write_all(fd, r->cycles, sizeof *r->cycles * static_cast<size_t>(r->steps)) ||
             write_all(fd, r->stage, sizeof *r->stage * static_cast<size_t>(r->steps * p->M));
    }
    _exit(rc ? 1 : 0);
}

}  // namespace

extern "C" int scp_run(const scp_params *p, scp_result *r, char *err, size_t err_size)
{
    std::memset(r, 0, sizeof *r);
    if (p->M < 1 || p->M > 64 || p->bytes_per_cycle <= 0) {
        std::snprintf(err, err_size, "the SystemC model takes 1 to 64 stages and a positive "
                      "off-chip bandwidth");
        return -1;
    }
    r->steps = p->sequential ? p->n : p->n + 2 * (p->M - 1);
    r->cycles = static_cast<int64_t *>(std::calloc(static_cast<size_t>(r->steps) + 1, sizeof *r->cycles));
    r->stage = static_cast<scp_stage_step *>(
        std::calloc(static_cast<size_t>(r->steps * p->M) + 1, sizeof *r->stage));
    int fds[2];
    if (!r->cycles || !r->stage || pipe(fds)) {
        scp_free(r);
        std::snprintf(err, err_size, "out of memory or pipes for the SystemC model");
        return -1;
    }
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        child(p, r, fds[1]);
    }
    close(fds[1]);
    int rc = pid < 0 ||
             read_all(fds[0], &r->offchip_words, sizeof r->offchip_words) ||
             read_all(fds[0], r->computed, sizeof r->computed) ||
             read_all(fds[0], r->cycles, sizeof *r->cycles * static_cast<size_t>(r->steps)) ||
             read_all(fds[0], r->stage, sizeof *r->stage * static_cast<size_t>(r->steps * p->M));
    close(fds[0]);
    int status = 0;
    if (pid > 0 && (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)))
        rc = 1;
    if (rc) {
        scp_free(r);
        std::snprintf(err, err_size, "the SystemC simulation failed");
        return -1;
    }
    return 0;
}

extern "C" void scp_free(scp_result *r)
{
    std::free(r->cycles);
    std::free(r->stage);
    r->cycles = nullptr;
    r->stage = nullptr;
}

// libsystemc's own main() calls sc_main; layerpipe has its own main and never calls
// this, but the library needs the symbol to link.
int sc_main(int, char **)
{
    return 0;
}
