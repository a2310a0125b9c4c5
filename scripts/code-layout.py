#!/usr/bin/env python3
"""Regenerate final/nsrun.order: the functions a start of `nsrun run` runs,
those it runs first first, for lld to lay out together (final/CMakeLists.txt).

  sudo scripts/code-layout.py BUILD ROOTFS final/nsrun.order     (make code-layout)

Root, perf (make bench-deps) and a build linked with lld (NSRUN_CODE_LAYOUT).
Everything runs in a private mount namespace with its own /run.

1. Sampling: 300 starts under `perf record -e cpu-clock:u`; every function a
   sample lands in, in the order first seen.  Sampling misses what runs for
   a microsecond, and each such function still costs a page fault when it is
   alone in its 64 KB window of code; so
2. the page faults themselves: nsrun is relinked with the list so far, one
   start is traced (exceptions:page_fault_user), and the function at each
   instruction-fetch fault of nsrun and of the container's process is
   appended — until a start faults in no function the list lacks, or after
   40 rounds.
"""
import bisect, os, re, subprocess, sys, tempfile

def sh_in_private_ns(script):
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "bash", "-c",
                           "mount -t tmpfs nsrun-layout /run\n" + script],
                          capture_output=True, text=True)

def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    build, rootfs, out = (os.path.abspath(a) for a in sys.argv[1:])
    work = tempfile.mkdtemp(prefix="nsrun-layout.")
    binary, order_file, data = f"{work}/nsrun", f"{work}/order", f"{work}/perf.data"
    start = f"{{B}} run --rm --network none --rootfs {rootfs} -- /bin/true"
    link = subprocess.run(["ninja", "-C", build, "-t", "commands", "bin/nsrun"],
                          capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    if "--symbol-ordering-file=" not in link:
        sys.exit("code-layout: nsrun in BUILD is not linked with lld and an ordering file (NSRUN_CODE_LAYOUT)")
    link = re.sub(r"--symbol-ordering-file=\S+", f"--symbol-ordering-file={order_file}", link)
    link = link.replace(": && ", "").replace(" && :", "").replace("-o bin/nsrun", f"-o {binary}")

    # 1. sampling
    run = start.format(B=f"{build}/bin/nsrun")
    r = sh_in_private_ns(f"for i in 1 2 3; do {run}; done\n"
                         f"perf record -q -e cpu-clock:u -c 20000 -o {data} -- "
                         f"sh -c 'for i in $(seq 300); do {run}; done' >/dev/null 2>&1")
    script = subprocess.run(["perf", "script", "-i", data, "--no-demangle", "-F", "ip,sym,dso"],
                            capture_output=True, text=True).stdout
    order, known = [], set()
    for line in script.splitlines():
        m = re.match(r"\s*[0-9a-f]+\s+(\S+)\s+\((\S+)\)$", line)
        if m and m.group(2).endswith("/bin/nsrun") and not m.group(1).startswith("[unknown]"):
            name = re.sub(r"\+0x[0-9a-f]+$", "", m.group(1))
            if name not in known:
                known.add(name)
                order.append(name)
    print(f"code-layout: {len(order)} functions sampled", flush=True)

    # 2. the page faults, round by round
    for round_ in range(40):
        with open(order_file, "w") as f:
            f.write("\n".join(order) + "\n")
        subprocess.run(link, shell=True, cwd=build, check=True, capture_output=True)
        symbols = []
        for line in subprocess.run(["nm", "-n", binary], capture_output=True, text=True).stdout.splitlines():
            p = line.split()
            if len(p) == 3 and p[1] in "tTwW":
                symbols.append((int(p[0], 16), p[2]))
        addresses = [a for a, _ in symbols]
        code = [l.split() for l in subprocess.run(["readelf", "-lW", binary], capture_output=True,
                                                  text=True).stdout.splitlines() if "LOAD" in l and " R E " in l][0]
        delta = int(code[2], 16) - int(code[1], 16)  # vaddr - file offset of the code
        run = start.format(B=binary)
        sh_in_private_ns(f"{run}; {run}\nperf record -q -e exceptions:page_fault_user -o {data} -- {run}")
        trace = subprocess.run(["perf", "script", "-i", data, "--show-mmap-events", "-F", "comm,pid,trace"],
                               capture_output=True, text=True).stdout
        base, new, faults = None, [], 0
        for line in trace.splitlines():
            m = re.search(r"\[(0x[0-9a-f]+)\(0x[0-9a-f]+\) @ (0x[0-9a-f]+) .*r-xp .*/nsrun$", line)
            if m and base is None:
                base = int(m.group(1), 16) - int(m.group(2), 16) - delta
            m = re.match(r"\s*(\S+)\s+\d+\s+address=\S+\s+ip=(0x[0-9a-f]+)\s+error_code=0x14", line)
            if m and base is not None and m.group(1) == "nsrun":
                faults += 1
                i = bisect.bisect_right(addresses, int(m.group(2), 16) - base) - 1
                if i >= 0 and symbols[i][1] not in known and symbols[i][1] not in new:
                    new.append(symbols[i][1])
        print(f"code-layout: round {round_}: {faults} code page faults, {len(new)} functions new", flush=True)
        if not new:
            break
        known.update(new)
        order += new

    with open(out, "w") as f:
        f.write("# The functions a start of `nsrun run --network none -- /bin/true` runs, those it runs\n"
                "# first first (scripts/code-layout.py; lld lays them out in this order: final/CMakeLists.txt).\n")
        f.write("\n".join(order) + "\n")
    print(f"code-layout: {len(order)} functions written to {out}")

if __name__ == "__main__":
    main()
