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
    rows.append(("a", f"SpiffWorkflow in memory ({len(a.get('operators', []))} fake operators)", a["n"], _rate(a, "inst/s"),
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
    for key, label in (("d_http_1", "HTTP gunicorn 3x2 gthread, PG, 1 client"), ("d_http_4", "HTTP gunicorn 3x2 gthread, PG, 4 clients")):
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
    star = "" if e["bulk"]["rows"] >= 100_000 else "*"  # the target is stated at 100k rows
    for layer in ("service", "http"):
        for user, s in (e.get(layer) or {}).items():
            if user.startswith("_"):
                continue
            ok = s["p95_ms"] <= t["inbox_p95_max_ms"]
            summary["verdicts"][f"inbox_{layer}_{user}"] = _verdict(ok)
            what = "list_inbox()" if layer == "service" else "GET /api/v1/tasks"
            rows.append(("e", f"{what} {user} ({s['total_open']} open)", s["n"],
                         f"p50 {s['p50_ms']:.1f} / p95 {s['p95_ms']:.1f} ms", "",
                         f"p95 <= {t['inbox_p95_max_ms']:g} ms", _verdict(ok) + star))

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
          f"bulk insert {bulk['insert_seconds']:.1f} s" + (" (* fewer rows than the 100,000 of the target)" if star else ""))
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
        if key.startswith(("c_", "d_")) and res["b_memory_json"].get("process_cpu_seconds"):
            b_cpu = res["b_memory_json"]["process_cpu_seconds"] / res["b_memory_json"]["n"]
            summary["ratios"][f"{key}_cpu_slowdown_vs_b"] = (ours / count) / b_cpu
            line += f"; {ours / count / b_cpu:.1f}x the CPU of (b)"
        if cpu.get("machine_capacity"):
            line += (f"; total ours {ours / count * 1000:.1f} -> at most ~{meta['cpus'] / (ours / count):,.0f}/s on "
                     f"{meta['cpus']} idle CPUs; others used {cpu['others'] / cpu['machine_capacity'] * 100:.0f}% of the machine")
        print(line)
    shares = {}
    for key, r in [(k, res.get(k)) for k in ("c_sqlite", "c_pg", "d_http_1", "d_http_4")] + \
            [(f"e_{layer}", (e.get(layer) or {})) for layer in ("service", "http")]:
        cpu = (r or {}).get("cpu_seconds") or (r or {}).get("_cpu_seconds") or {}
        if cpu.get("machine_capacity"):
            shares[key] = cpu["others"] / cpu["machine_capacity"]
    summary["others_cpu_share"] = shares
    busy = {k: v for k, v in shares.items() if v > 0.15}
    if busy:
        print("WARNING: other processes used " + ", ".join(f"{v * 100:.0f}% during {k}" for k, v in busy.items())
              + f" of the {meta['cpus']} CPUs; those figures are lower (latencies higher) than on an idle machine.")
    misses = [k for k, v in summary["verdicts"].items() if v == "MISS"]
    print(f"targets: {len(summary['verdicts']) - len(misses)} PASS, {len(misses)} MISS"
          + (f" ({', '.join(misses)})" if misses else ""))
    return summary
