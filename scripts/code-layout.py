#!/usr/bin/env python3
"""Regenerate final/nsrun.order: the functions a start of `nsrun run` runs,
those it runs first first, then those the OCI cycle (create, start, delete)
adds, for lld to lay out together (final/CMakeLists.txt).

  sudo scripts/code-layout.py BUILD ROOTFS final/nsrun.order     (make code-layout)

Root, perf (make bench-deps) and a build linked with lld (NSRUN_CODE_LAYOUT).
Everything runs in a private mount namespace with its own /run.

1. Sampling: 300 starts and 150 OCI cycles under `perf record -e
   cpu-clock:u`; every function a sample lands in, in the order first seen.  Sampling misses what runs for
   a microsecond, and each such function still costs a page fault when it is
   alone in its 64 KB window of code; so
2. the page faults themselves: nsrun is relinked with the list so far, one
   start is traced (exceptions:page_fault_user), and the function at each
   instruction-fetch fault of nsrun and of the container's process is
   appended — until a start and a cycle fault in no function the list
   lacks, or after 40 rounds.
"""
import bisect, json, os, re, subprocess, sys, tempfile

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
    # An OCI bundle of nsrun's own default config.json: the lab rootfs, /bin/true, no terminal.
    bundle = f"{work}/bundle"
    os.makedirs(bundle)
    subprocess.run([f"{build}/bin/nsrun", "spec", "--bundle", bundle], check=True)
    with open(f"{bundle}/config.json") as f:
        config = json.load(f)
    config["root"] = {"path": rootfs, "readonly": False}
    config["process"]["terminal"] = False
    config["process"]["args"] = ["/bin/true"]
    with open(f"{bundle}/config.json", "w") as f:
        json.dump(config, f)
    cycle = ("{B} --root /run/layout create --bundle " + bundle + " c$$ >/dev/null 2>&1 && "
             "{B} --root /run/layout start c$$ && {B} --root /run/layout delete --force c$$")
    link = subprocess.run(["ninja", "-C", build, "-t", "commands", "bin/nsrun"],
                          capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    if "--symbol-ordering-file=" not in link:
        sys.exit("code-layout: nsrun in BUILD is not linked with lld and an ordering file (NSRUN_CODE_LAYOUT)")
    link = re.sub(r"--symbol-ordering-file=\S+", f"--symbol-ordering-file={order_file}", link)
    link = link.replace(": && ", "").replace(" && :", "").replace("-o bin/nsrun", f"-o {binary}")

    # 1. sampling
    run = start.format(B=f"{build}/bin/nsrun")
    oci = cycle.format(B=f"{build}/bin/nsrun")
    with open(f"{work}/sample.sh", "w") as f:
        f.write(f"for i in $(seq 300); do {run}; done\nfor i in $(seq 150); do sh -c '{oci}'; done\n")
    sh_in_private_ns(f"for i in 1 2 3; do {run}; done\n"
                     f"perf record -q -e cpu-clock:u -c 20000 -o {data} -- sh {work}/sample.sh >/dev/null 2>&1")
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
        run, oci = start.format(B=binary), cycle.format(B=binary)
        with open(f"{work}/trace.sh", "w") as f:
            f.write(f"{run}\n{oci}\n")
        sh_in_private_ns(f"{run}; {run}; sh -c '{oci}'\n"
                         f"perf record -q -e exceptions:page_fault_user -o {data} -- sh {work}/trace.sh")
        trace = subprocess.run(["perf", "script", "-i", data, "--show-mmap-events", "--show-task-events",
                                "-F", "comm,pid,trace"], capture_output=True, text=True).stdout
        base, new, faults = {}, [], 0  # nsrun's load address, per process (each exec has its own)
        for line in trace.splitlines():
            m = re.search(r"\s(\d+)/\d+: \[(0x[0-9a-f]+)\(0x[0-9a-f]+\) @ (0x[0-9a-f]+) .*r-xp .*/nsrun$", line)
            if m:
                base[m.group(1)] = int(m.group(2), 16) - int(m.group(3), 16) - delta
            m = re.search(r"PERF_RECORD_FORK\((\d+):\d+\):\((\d+):\d+\)", line)
            if m and m.group(2) in base:
                base[m.group(1)] = base[m.group(2)]  # a fork shares its parent's mappings
            m = re.match(r"\s*(\S+)\s+(\d+)\s+address=\S+\s+ip=(0x[0-9a-f]+)\s+error_code=0x14", line)
            if m and m.group(1) == "nsrun" and m.group(2) in base:
                faults += 1
                i = bisect.bisect_right(addresses, int(m.group(3), 16) - base[m.group(2)]) - 1
                if i >= 0 and symbols[i][1] not in known and symbols[i][1] not in new:
                    new.append(symbols[i][1])
        print(f"code-layout: round {round_}: {faults} code page faults (a start and an OCI cycle), "
              f"{len(new)} functions new", flush=True)
        if not new:
            break
        known.update(new)
        order += new

    with open(out, "w") as f:
        f.write("# The functions a start of `nsrun run --network none -- /bin/true` runs, those it runs\n"
                "# first first, then those an OCI cycle (create, start, delete) adds (scripts/code-layout.py;\n"
                "# lld lays them out in this order: final/CMakeLists.txt).\n")
        f.write("\n".join(order) + "\n")
    print(f"code-layout: {len(order)} functions written to {out}")

if __name__ == "__main__":
    main()
