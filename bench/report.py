"""The printed table, the derived ratios and the PASS/MISS verdicts."""


def _rate(r, unit):
    return f"{r['rate']:,.1f} {unit}"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def print_report(res: dict) -> dict:
    t = res["targets"]
    meta = res["meta"]
    rows = []  # (id, measurement, n, result, vs b, target, verdict)
    summary = {"ratios": {}, "verdicts": {}}
    b = res["b_memory_json"]["rate"]

    a = res["a_memory"]
    rows.append(("a", "SpiffWorkflow in memory (4 fake operators)", a["n"], _rate(a, "inst/s"),
                 f"{b / a['rate']:.2f}x (faster)", "", ""))
    bb = res["b_memory_json"]
    rows.append(("b", f"(a) + full JSON save+load at 2 wait states (~{bb['json_bytes_mean'] / 1024:.1f} KiB)",
                 bb["n"], _rate(bb, "inst/s"), "1x", "", ""))
    for key, label in (("c_sqlite", "service layer, SQLite file"), ("c_pg", "service layer, PostgreSQL")):
        c = res[key]
        slow = b / c["rate"]
        ok = slow <= t["c_slowdown_max"]
        summary["ratios"][f"{key}_slowdown_vs_b"] = slow
        summary["verdicts"][f"{key}_slowdown"] = _verdict(ok)
        rows.append(("c", f"{label} (2 transactions/instance)", c["n"], _rate(c, "inst/s"),
                     f"{slow:.1f}x slower", f"<= {t['c_slowdown_max']:g}x", _verdict(ok)))
    for key, label in (("d_http_1", "HTTP gunicorn -w 4, PG, 1 client"), ("d_http_4", "HTTP gunicorn -w 4, PG, 4 clients")):
        d = res.get(key)
        if d is None:
            rows.append(("d", label, "-", "skipped", "", "", ""))
            continue
        slow = b / d["rate"] if d["rate"] else float("inf")
        summary["ratios"][f"{key}_slowdown_vs_b"] = slow
        target, verdict = "", ""
        if key == "d_http_4":
            ok = d["rate"] >= t["http_4_clients_min"] and d["errors"] == 0
            target, verdict = f">= {t['http_4_clients_min']:g}/s", _verdict(ok)
            summary["verdicts"]["http_4_clients"] = verdict
        err = f", {d['errors']} errors" if d["errors"] else ""
        rows.append(("d", label, d["flows"], f"{d['rate']:,.1f} flows/s{err}", f"{slow:.1f}x slower", target, verdict))
    e = res["e_inbox"]
    rows_label = f"{e['bulk']['rows']:,}"
    for layer in ("service", "http"):
        for user, s in (e.get(layer) or {}).items():
            ok = s["p95_ms"] <= t["inbox_p95_max_ms"]
            summary["verdicts"][f"inbox_{layer}_{user}"] = _verdict(ok)
            what = "list_inbox()" if layer == "service" else "GET /api/v1/tasks"
            rows.append(("e", f"{what} {user} ({s['total_open']:,} open)", s["n"],
                         f"p50 {s['p50_ms']:.1f} / p95 {s['p95_ms']:.1f} ms", "",
                         f"p95 <= {t['inbox_p95_max_ms']:g} ms", _verdict(ok)))

    head = ("", "measurement", "N", "result", "slowdown vs (b)", "target", "")
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    line = "  ".join("-" * w for w in widths)
    print()
    print("CraneFlow benchmark - crane_registration: start -> submit_filing -> review_filing(approve) -> end")
    print(f"mode {meta['mode']}, {meta['cpus']} CPUs, load avg start {meta['loadavg_start']} / end "
          f"{meta.get('loadavg_end')}, Python {meta['python']}, PostgreSQL {meta['postgresql']} "
          f"(synchronous_commit={meta['pg_synchronous_commit']}), {meta['bench_seconds']:.0f} s")
    print(line)
    for r in [head] + rows:
        cells = [str(c) for c in r]
        print("  ".join(c.rjust(w) if i in (2,) else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip())
        if r is head:
            print(line)
    print(line)
    bulk = e["bulk"]
    print(f"(e) {rows_label} open tasks ({bulk['regulator']:,} regulator lane, {bulk['wuhan']:,} of them in Wuhan; "
          f"{bulk['enterprise']:,} enterprise lane over {bulk['enterprises']} enterprises), "
          f"bulk insert {bulk['insert_seconds']:.1f} s")
    for key in ("d_http_1", "d_http_4"):
        d = res.get(key)
        if d:
            lat = d["latency"]
            who = "1 client" if d["clients"] == 1 else f"{d['clients']} clients"
            print(f"(d, {who}) latency p50/p95 ms: POST /cases "
                  f"{lat['start']['p50_ms']:.0f}/{lat['start']['p95_ms']:.0f}, POST /tasks/…/complete "
                  f"{lat['approve']['p50_ms']:.0f}/{lat['approve']['p95_ms']:.0f}, whole flow "
                  f"{lat['flow']['p50_ms']:.0f}/{lat['flow']['p95_ms']:.0f}")
            for msg in d["first_errors"]:
                print(f"    error: {msg}")
    print("CPU per instance/flow during the measured window (ms; 'others' = the rest of the machine):")
    for key, label in (("a_memory", "(a)"), ("b_memory_json", "(b)"), ("c_sqlite", "(c) SQLite"), ("c_pg", "(c) PostgreSQL"),
                       ("d_http_1", "(d) 1 client"), ("d_http_4", "(d) 4 clients")):
        r = res.get(key)
        if not r:
            continue
        count = r.get("flows", r.get("n"))
        cpu = r.get("cpu_seconds") or {}
        parts = [f"{name} {v / count * 1000:.1f}" for name, v in cpu.items()
                 if name not in ("wall_seconds", "machine_busy", "machine_capacity", "others")]
        if not cpu:
            parts = [f"bench process {r['process_cpu_seconds'] / count * 1000:.2f}"]
        ours = sum(v for name, v in cpu.items() if name not in ("wall_seconds", "machine_busy", "machine_capacity", "others")) \
            if cpu else r["process_cpu_seconds"]
        line = f"  {label:15s} " + ", ".join(parts)
        if cpu.get("machine_capacity"):
            line += (f"; total ours {ours / count * 1000:.1f} -> at most ~{meta['cpus'] / (ours / count):,.0f}/s on "
                     f"{meta['cpus']} idle CPUs; others used {cpu['others'] / cpu['machine_capacity'] * 100:.0f}% of the machine")
        print(line)
    load = meta["loadavg_start"]
    if load and meta["cpus"] and load[0] > 0.5 * meta["cpus"]:
        print(f"WARNING: the machine was busy when the run started (load {load[0]} on {meta['cpus']} CPUs); "
              "figures are lower than on an idle machine.")
    misses = [k for k, v in summary["verdicts"].items() if v == "MISS"]
    print(f"targets: {len(summary['verdicts']) - len(misses)} PASS, {len(misses)} MISS"
          + (f" ({', '.join(misses)})" if misses else ""))
    return summary
