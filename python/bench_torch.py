"""PyTorch CPU train-step times of spanclust's networks, for `deno task bench:torch`.

The networks mirror experiments/models.ts layer for layer (NHWC there, NCHW here; same
parameter counts, checked below). One step = forward + mean-square stand-in loss + backward +
Adam, batch 64, like experiments/measure/step.ts. Prints one JSON object per line:
{"model", "params", "threads", "median_s", "mean_s"}; the better thread count is what the
Deno side reports. Needs Debian's python3-torch (run with /usr/bin/python3); exits 3 with a
message when torch is absent.
"""
import json
import statistics
import sys
import time

try:
    import torch
    from torch import nn
except ImportError:
    print("bench_torch: PyTorch is not installed (apt-get install -y python3-torch; "
          "run with /usr/bin/python3)", file=sys.stderr)
    sys.exit(3)


def paper_lenet(c=1, hw=28, emb=256):
    return nn.Sequential(
        nn.Conv2d(c, 32, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(64 * (hw // 4) ** 2, 256), nn.ReLU(), nn.Linear(256, emb))


def small_cnn(c=1, hw=28, emb=32):
    return nn.Sequential(
        nn.Conv2d(c, 8, 5, stride=2, padding=2), nn.ReLU(),
        nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(),
        nn.Flatten(), nn.Linear(16 * 7 * 7, 64), nn.ReLU(), nn.Linear(64, emb))


def mlp(c=1, hw=28, emb=32):
    return nn.Sequential(nn.Flatten(), nn.Linear(c * hw * hw, 256), nn.ReLU(),
                         nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, emb))


def autoencoder(c=1, hw=28, emb=10):
    d = c * hw * hw
    return nn.Sequential(nn.Flatten(), nn.Linear(d, 256), nn.ReLU(), nn.Linear(256, 256),
                         nn.ReLU(), nn.Linear(256, emb), nn.Linear(emb, 256), nn.ReLU(),
                         nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, d), nn.Sigmoid())


MODELS = {"paper-lenet": paper_lenet, "small-cnn": small_cnn, "mlp": mlp,
          "otk-autoencoder": autoencoder}


def time_step(model, batch, steps, warmup, device="cpu"):
    """Median and mean seconds of a train step, and the median of its forward pass alone
    (embeddings copied to the host, as spanclust reads them for the clustering loss)."""
    x = torch.rand(batch, 1, 28, 28, device=device)
    opt = torch.optim.Adam(model.parameters(), lr=3e-4)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = model(x).square().mean()
        loss.backward()
        opt.step()
        sync()

    def forward():
        with torch.no_grad():
            model(x).cpu()

    for _ in range(warmup):
        step()
    times, forwards = [], []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        forward()
        forwards.append(time.perf_counter() - t0)
    return statistics.median(times), statistics.fmean(times), statistics.median(forwards)


def main():
    import argparse
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default="paper-lenet,small-cnn,mlp,otk-autoencoder")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--threads", default="1,all")
    p.add_argument("--device", default="cpu",
                   help="torch device: cpu, or cuda (one thread count: the first of --threads)")
    a = p.parse_args()
    if a.device.startswith("cuda") and not torch.cuda.is_available():
        print(f"bench_torch: --device {a.device}, but torch.cuda.is_available() is False",
              file=sys.stderr)
        sys.exit(3)
    import os
    cores = os.cpu_count() or 1
    for name in a.models.split(","):
        if name not in MODELS:
            print(f"bench_torch: unknown model {name!r} (known: {', '.join(MODELS)})",
                  file=sys.stderr)
            sys.exit(2)
        threads_list = a.threads.split(",")
        if a.device != "cpu":
            threads_list = threads_list[:1]
        for t in threads_list:
            threads = cores if t == "all" else int(t)
            torch.set_num_threads(threads)
            torch.manual_seed(0)
            model = MODELS[name]().to(a.device)
            batch = 256 if name == "otk-autoencoder" else a.batch
            med, mean, fwd = time_step(model, batch, a.steps, a.warmup, a.device)
            params = sum(p.numel() for p in model.parameters())
            gpu = torch.cuda.get_device_name() if a.device.startswith("cuda") else None
            print(json.dumps({"model": name, "params": params, "threads": threads,
                              "batch": batch, "device": a.device, "gpu": gpu,
                              "median_s": med, "mean_s": mean, "forward_median_s": fwd}),
                  flush=True)


if __name__ == "__main__":
    main()
