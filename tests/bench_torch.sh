#!/bin/sh
# bench_torch.sh BENCH.txt - train the same MLP with PyTorch on the CPU (one thread,
# batch 32, SGD with momentum) when python3 can import torch (Debian: python3-torch),
# and print its samples/s and layerpipe's ratio to it. Appends its lines to BENCH.txt.
# Never a test: without torch it says so and exits 0.
set -u
out=$1
py=""
for c in ${PYTHON:-python3 /usr/bin/python3}; do
    if "$c" -c 'import torch' >/dev/null 2>&1; then
        py=$c
        break
    fi
done
if [ -z "$py" ]; then
    echo "pytorch: not installed (apt-get install python3-torch to compare)" | tee -a "$out"
    exit 0
fi
rate=$("$py" - <<'PY'
import time, torch
torch.set_num_threads(1)
torch.manual_seed(1)
net = torch.nn.Sequential(
    torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128), torch.nn.ReLU(),
    torch.nn.Linear(128, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.5)
loss_fn = torch.nn.CrossEntropyLoss()
x = torch.randn(8192, 784)
y = torch.randint(0, 10, (8192,))
best = 0.0
for rep in range(3):
    t0 = time.perf_counter()
    for i in range(0, 8192, 32):
        opt.zero_grad()
        loss_fn(net(x[i:i + 32]), y[i:i + 32]).backward()
        opt.step()
    best = max(best, 8192 / (time.perf_counter() - t0))
print(f"{best:.0f}")
PY
)
ours=$(sed -n 's/^train_float32_sequential_samples_per_s *\([0-9]*\).*/\1/p' "$out")
{
    echo "pytorch_float32_samples_per_s          $rate  (torch $("$py" -c 'import torch; print(torch.__version__)'), 1 thread)"
    [ -n "$ours" ] && [ "$rate" -gt 0 ] &&
        awk -v a="$ours" -v b="$rate" 'BEGIN { printf "layerpipe_over_pytorch                 %.2fx\n", a / b }'
} | tee -a "$out"
