#!/usr/bin/env python3
"""Time commands started in turns: each round runs every command once, in a
new random order, so that a machine whose speed drifts over minutes (a VM
on a shared host: ±10 % from one minute to the next) slows them all alike.
hyperfine times one command's runs back to back, then the next command's:
a drift between the two batches reads as a difference between them.

    in-turns.py ROUNDS NAME=COMMAND NAME=COMMAND ...   (the first is the reference)

Each COMMAND is split as a shell would (shlex) and run without a shell; its
output goes to /dev/null.  Prints JSON: per command the median wall-clock
time and the median CPU time (user + system of it and its children, from
rusage), both in seconds; and against the reference, the median of the
per-round ratios and in how many rounds the reference was faster.
"""
import json
import random
import resource
import shlex
import statistics
import subprocess
import sys
import time


def run(argv):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main():
    rounds = int(sys.argv[1])
    commands = [arg.split("=", 1) for arg in sys.argv[2:]]
    argvs = [shlex.split(command) for _, command in commands]
    for argv in argvs:  # warm-up: page cache, the seccomp program's cache
        run(argv)
        run(argv)
    wall = [[] for _ in argvs]
    cpu = [[] for _ in argvs]
    for _ in range(rounds):
        order = list(range(len(argvs)))
        random.shuffle(order)
        for i in order:
            w, c = run(argvs[i])
            wall[i].append(w)
            cpu[i].append(c)
    results = []
    for i, (name, command) in enumerate(commands):
        ratios = [w / r for w, r in zip(wall[i], wall[0])]
        results.append({
            "command": name,
            "median": statistics.median(wall[i]),
            "cpu": statistics.median(cpu[i]),
            "ratio": statistics.median(ratios),
            "reference_faster": sum(r < w for w, r in zip(wall[i], wall[0])),
        })
    json.dump({"rounds": rounds, "results": results}, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
