"""The `python -m data` command line. Exit codes: 0 done, 2 bad input or arguments (nothing written)."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from data.db.errors import StoreError
from data.db.store import Store, default_path
from data.services import groups as groups_svc


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m data", description="Jointly's store: import DfE files, build the "
                                "demo, print scorecards, manage accounts, rebuild derived tables, remove a year, write "
                                "the parents' static website. The "
                                "store is $JOINTLY_DB (default data/store/jointly.duckdb).")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="build the synthetic demo store (files in DfE formats, imported); it replaces only "
                                    "a demo store, never a real one unless --replace")
    d.add_argument("--replace", action="store_true",
                   help="replace a real (non-demo) store at $JOINTLY_DB, after keeping a backup beside it")
    d.add_argument("--schools", type=int, default=None, help="number of schools (default: the demo size)")
    d.add_argument("--years", type=int, default=None, help="number of academic years (default 5)")
    d.add_argument("--seed", type=int, default=None, help="random seed: the same seed gives the same England")
    d.add_argument("--files", type=Path, default=None, help="where to write the DfE-format files")

    i = sub.add_parser("import", help="import DfE files (kind detected from the header)")
    i.add_argument("--period", help="academic year from 1990/91 to next year's, e.g. 2018/19 (else taken from a "
                                    "folder named like 2018-2019)")
    i.add_argument("files", nargs="+", type=Path)

    sub.add_parser("info", help="what is in the store, and whether its derived tables are up to date")
    sub.add_parser("rebuild", help="recompute the derived tables (percentiles, families, expectations) now; any "
                                   "read-write open also does it when an interrupted import left them pending")

    s = sub.add_parser("scorecard", help="print a school's or a group's scorecard")
    who = s.add_mutually_exclusive_group(required=True)
    who.add_argument("--school", type=int, metavar="URN")
    who.add_argument("--group", metavar="ID_OR_NAME")
    s.add_argument("--period", required=True, help="academic year, e.g. 2018/19")
    s.add_argument("--format", choices=["table", "csv", "json"], default="table")
    s.add_argument("--measures", help="comma-separated measure ids (default: all that apply)")
    s.add_argument("--method", choices=["pooled", "dfe_trust"], default="pooled",
                   help="group roll-up: pooled (default) or the DfE multi-academy-trust method")

    im = sub.add_parser("impact", help="has joining a group made a difference? the event study of the schools that "
                                       "joined it, against similar schools that had not (docs/method.md)")
    im.add_argument("--group", metavar="ID_OR_NAME", required=True)
    im.add_argument("--measure", required=True, help="a measure id, e.g. attainment8, ks2_rwm_expected")
    im.add_argument("--support", action="store_true",
                    help="instead: the schools that received support on the measure (an association, not proof)")
    im.add_argument("--format", choices=["table", "json"], default="table")

    su = sub.add_parser("support", help="schools strong on a measure that could support a school")
    su.add_argument("--school", type=int, metavar="URN", required=True)
    su.add_argument("--measure", required=True)
    su.add_argument("--period", required=True)
    su.add_argument("--format", choices=["table", "json"], default="table")

    f = sub.add_parser("family", help="a school's family of similar schools (variables and weights adjustable)")
    f.add_argument("--school", type=int, metavar="URN", required=True)
    f.add_argument("--size", type=int, default=30)
    f.add_argument("--weights", help="e.g. disadvantaged_pct=2,eal_pct=1,sen_pct=1,pupils=0.5 (0 leaves one out)")

    g = sub.add_parser("groups", help="list groups (the default), or make and keep a partnership, federation, "
                                      "cluster or hub; trusts and their schools come from the DfE's files")
    group_kinds = ["trust", "federation", "partnership", "cluster", "hub", "sponsor", "other"]
    g.add_argument("--kind", choices=group_kinds)
    gs = g.add_subparsers(dest="groups_command", required=False)
    gl = gs.add_parser("list", help="list groups (as `groups` does)")
    gl.add_argument("--kind", choices=group_kinds, default=argparse.SUPPRESS)
    gc = gs.add_parser("create", help="create a partnership, federation, cluster, hub or other group")
    gc.add_argument("name", nargs="?", help="the group's name (or --name)")
    gc.add_argument("--name", dest="name_option", metavar="NAME", help="the group's name")
    gc.add_argument("--kind", required=True, help="partnership, federation, cluster, hub or other")
    gc.add_argument("--parent", metavar="GROUP", help="the group it is nested in (name or id)")
    gc.add_argument("--opened", metavar="YYYY-MM-DD", help="the date it opened (default today)")
    ga = gs.add_parser("add", help="add schools to a group from the date they joined")
    ga.add_argument("group", metavar="GROUP", help="name or id")
    ga.add_argument("urns", nargs="+", metavar="URN")
    ga.add_argument("--joined", metavar="YYYY-MM-DD", help="the date they joined (default today; a past date is fine)")
    gr = gs.add_parser("remove", help="record that a school left a group (its stay is kept, with the date)")
    gr.add_argument("group", metavar="GROUP", help="name or id")
    gr.add_argument("urn", metavar="URN")
    gr.add_argument("--left", metavar="YYYY-MM-DD", help="the date it left (default today)")
    gw = gs.add_parser("show", help="a group's members with their dates, the group it is in, the groups in it")
    gw.add_argument("group", metavar="GROUP", help="name or id")
    gn = gs.add_parser("rename", help="give a group a new name")
    gn.add_argument("group", metavar="GROUP", help="name or id")
    gn.add_argument("new_name", metavar="NEW")
    gt = gs.add_parser("nest", help="put a group inside another (without PARENT: take it out)")
    gt.add_argument("group", metavar="GROUP", help="name or id")
    gt.add_argument("parent", metavar="PARENT", nargs="?", help="name or id")
    gx = gs.add_parser("close", help="close a group: its schools' stays end that day, its past is kept")
    gx.add_argument("group", metavar="GROUP", help="name or id")
    gx.add_argument("--on", metavar="YYYY-MM-DD", help="the date it closed (default today)")
    go = gs.add_parser("reopen", help="reopen a closed group")
    go.add_argument("group", metavar="GROUP", help="name or id")

    fp = sub.add_parser("forget-period", help="remove every value of one academic year (school values, local "
                                              "values, benchmarks) and rebuild the derived tables; a backup is kept")
    fp.add_argument("period", help="the academic year, e.g. 2018/19")
    fp.add_argument("--yes", action="store_true", help="do not ask for confirmation (required when not at a terminal)")

    ui = sub.add_parser("undo-import", help="undo one import: its values return to what they were before it, and "
                                            "the derived tables are rebuilt; a backup is kept")
    ui.add_argument("import_id", type=int, help="the import's number (`python -m data info`, the Data page's log)")
    ui.add_argument("--yes", action="store_true", help="do not ask for confirmation (required when not at a terminal)")

    co = sub.add_parser("consent", help="the member schools' answers on joint publication: show them, or record "
                                        "that schools agree or decline (as a data manager, audited)")
    co.add_argument("group", help="the group's id or exact name")
    co.add_argument("urns", nargs="*", type=int, help="the schools whose answer to record (none: show the answers)")
    answer = co.add_mutually_exclusive_group()
    answer.add_argument("--agree", action="store_true", help="the schools agree to publish jointly")
    answer.add_argument("--decline", action="store_true", help="the schools do not agree (or withdraw)")
    co.add_argument("--note", default="", help="a few words kept with the answer, e.g. where it was agreed")

    sub.add_parser("optimize", help="re-sort observations so group reads stay fast (after many imports)")
    ms = sub.add_parser("move-state", help="move what people wrote (accounts, audit, targets, consents, publications, "
                                           "the groups people made) out of a store from before the state store into "
                                           "its state store ($JOINTLY_STATE_URL, else beside the store); backups first")
    ms.add_argument("--yes", action="store_true", help="move without asking")
    ex = sub.add_parser("export-public", help="write a store holding only the published results (for a parents-only "
                                              "site, JOINTLY_PUBLIC_SITE=1)")
    ex.add_argument("out", help="the new store file (replaced whole if it exists), with its state file beside it "
                                "(OUT with the suffix .state.sqlite)")

    site = sub.add_parser("publish-site", help="write the parents' static website to the folder OUT: every current "
                                               "publication as plain pages, its CSV, the schools A to Z and a "
                                               "search; the site there before is kept as OUT.previous")
    site.add_argument("out", type=Path, help="the site's folder (new, empty, or a site this command wrote)")
    site.add_argument("--messages", type=Path, metavar="FILE",
                      help="a translation of the site's fixed words (TOML like data/outputs/site/messages/en.toml)")

    u = sub.add_parser("users", help="manage sign-in accounts (admin, leader, governor)")
    us = u.add_subparsers(dest="users_command", required=True)
    roles = ["admin", "leader", "governor"]
    ua = us.add_parser("add", help="add an account (no password: single sign-on only)")
    ua.add_argument("email")
    ua.add_argument("--role", required=True, help=f"one of {', '.join(roles)}")
    ua.add_argument("--group", metavar="ID_OR_NAME", help="the group of a leader or governor (not for an admin)")
    ua.add_argument("--school", type=int, metavar="URN",
                    help="a governor's one school in the group, or the school a leader is head of")
    ua.add_argument("--name", default="", help="the name shown in the app (default: the email)")
    ua.add_argument("--password-stdin", action="store_true",
                    help="read a password from standard input (asked for, unechoed, at a terminal)")
    us.add_parser("list", help="list accounts (never their passwords)")
    ur = us.add_parser("remove", help="remove an account")
    ur.add_argument("email")
    uo = us.add_parser("set-role", help="change an account's role and scope")
    uo.add_argument("email")
    uo.add_argument("--role", required=True, help=f"one of {', '.join(roles)}")
    uo.add_argument("--group", metavar="ID_OR_NAME")
    uo.add_argument("--school", type=int, metavar="URN")
    up = us.add_parser("set-password", help="set an account's password")
    up.add_argument("email")
    up.add_argument("--password-stdin", action="store_true", required=True,
                    help="read the password from standard input (never from the command line)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except StoreError as exc:
        print(f"error: {exc.title}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head`: stop quietly
        sys.stderr.close()
        return 0


def _open(*, rebuild: bool = True) -> Store:
    """The results at $JOINTLY_DB, read-only (so a command works while the app serves them), over the state store
    (what people write: accounts, targets, consents...); says so when a writer first rebuilt derived tables an
    interrupted import left pending (Store.open). A store that does not exist yet is made, empty."""
    path = default_path()
    if not path.exists():
        from data.db.snapshot import next_snapshot

        with next_snapshot(path):  # an empty, migrated store, swapped in whole
            pass
    store = Store.open(path, read_only=True, rebuild=rebuild)
    if store.rebuilt:
        print(f"note: {store.rebuilt}", file=sys.stderr, flush=True)
    return store


@contextmanager
def _writing(*, rebuild: bool = True) -> Iterator[Store]:
    """A writer over the next snapshot of the results at $JOINTLY_DB (data.db.snapshot), for a command that writes
    them: the writer lock is taken (a second writer waits, then says another import is running), and what the
    command commits is swapped in whole when it ends; an error or a kill leaves the results as they were. First,
    as any writer's open does, derived tables an interrupted import left pending are rebuilt (and said)."""
    from data.db.snapshot import next_snapshot

    with next_snapshot(default_path()) as store:
        if rebuild and (since := store.derived_pending()) is not None:
            try:
                print(f"note: {store.rebuild_derived()}", file=sys.stderr, flush=True)
            except Exception as exc:  # the rebuild is one transaction: the snapshot is as it was, still marked
                raise StoreError(f"the derived tables pending since import {since} could not be rebuilt; the "
                                 "imported values are kept: try `python -m data rebuild`", str(exc)) from exc
        yield store


def _demo(args: argparse.Namespace) -> int:
    from data.demo import build as demo

    path = default_path()
    kwargs = {k: v for k, v in (("schools", args.schools), ("years", args.years), ("seed", args.seed),
                                ("files_dir", args.files)) if v is not None}
    summary = demo.build_demo(path, progress=lambda msg, frac: print(f"[{frac:4.0%}] {msg}", flush=True),
                              replace=args.replace, **kwargs)
    print(summary)
    return 0


def _import(args: argparse.Namespace) -> int:
    from data.ingest.importers import after_imports, demo_refusal, import_files
    from data.ingest.store_check import check_store

    if default_path().exists():
        with Store(default_path(), read_only=True) as store:
            if (refused := demo_refusal(store)) is not None:  # one sentence, before any file is read or lock taken
                raise StoreError(f"{default_path()}: {refused}. Nothing was imported")
    derived_failed: Exception | None = None
    findings: list = []
    # one next snapshot for every file and the derived tables: the app serves all of it from its next rerun after
    # the swap, or (an error, a kill) none of it
    with _writing() as store:
        if (refused := demo_refusal(store)) is not None:  # the file may have become the demo meanwhile
            raise StoreError(f"{default_path()}: {refused}. Nothing was imported")
        reports = import_files(store, args.files, args.period, recluster=False)
        failed = 0
        for r in reports:
            print(r.summary())
            failed += not r.ok
        committed = [str(r.import_id) for r in reports if r.ok]
        if committed:
            print(f"imported {', '.join(committed)} into the next snapshot; rebuilding derived tables…", flush=True)
            try:
                after_imports(store, reports)
            except Exception as exc:  # the values are kept, the imports 'pending': the next writer rebuilds
                derived_failed = exc
            findings = check_store(store)
    if committed:
        # said once the snapshot is swapped in: from here the values are stored whatever happens next
        print(f"committed import {', '.join(committed)}: the app shows it from its next page load", flush=True)
    if derived_failed is not None:
        raise StoreError("the files are imported but the derived tables could not be rebuilt: run "
                         "`python -m data rebuild`", str(derived_failed)) from derived_failed
    if committed:  # after the per-file reports: what the store can show now, and what it cannot
        _print_findings(findings)
    if failed:
        print(f"error: {failed} of {len(reports)} files could not be imported (see above); "
              "nothing from those files was written", file=sys.stderr)
        return 2
    return 0


def _info(args: argparse.Namespace) -> int:
    from data.ingest.store_check import check_store

    with _open(rebuild=False) as store:  # read-only, as it is: a pending rebuild shows as pending
        info = store.info()
        findings = check_store(store)
    print(f"store: {info.path} (schema version {info.schema_version})")
    print(f"establishments: {info.establishments:,} ({info.establishments_with_location:,} with a map location)")
    groups = ", ".join(f"{n:,} {k}" for k, n in info.groups.items()) or "none"
    print(f"groups: {groups}; memberships: {info.memberships:,}")
    print(f"observations: {info.observations:,} school values and {info.benchmarks:,} LA/national benchmarks "
          f"over {info.measures} measures")
    print(f"periods: {', '.join(info.periods) or 'none'}")
    pending = f", {info.pending_imports:,} pending" if info.pending_imports else ""
    print(f"imports: {info.imports:,} ok{pending}, {info.failed_imports:,} failed; "
          f"local measures: {info.local_measures}")
    print("derived tables: " + ("up to date" if info.derived_pending_since is None
                                else f"pending since import {info.derived_pending_since}"))
    _print_findings(findings)
    return 0


def _print_findings(findings: list) -> None:
    from data.ingest.store_check import report_lines

    print("\n".join(report_lines(findings)))


def _rebuild(args: argparse.Namespace) -> int:
    with _writing(rebuild=False) as store:
        done = store.rebuild_derived()
    print(done)
    return 0


def _scorecard(args: argparse.Namespace) -> int:
    from data.services.scorecards import scorecard

    measures = [m.strip() for m in args.measures.split(",")] if args.measures else None
    with _open() as store:
        card = scorecard(store, school=args.school, group=args.group, period=args.period, measures=measures,
                         method=args.method)
    records = [r.to_dict() for r in card.rows]
    if args.format == "json":
        json.dump(records, sys.stdout, indent=2)
        print()
    elif args.format == "csv":
        flat = [{k: (json.dumps(v) if isinstance(v, (list, dict)) else v) for k, v in r.items()
                 if k != "member_values"} for r in records]
        w = csv.DictWriter(sys.stdout, fieldnames=list(flat[0]) if flat else ["measure"])
        w.writeheader()
        w.writerows(flat)
    else:
        _print_table(card)
    return 0


def _print_table(card) -> None:
    from metrics.registry import load_registry

    subject = card.subject
    print(f"{subject.name} ({subject.kind} {subject.id}), {card.period}")
    if subject.kind == "group":
        print(f"{len(subject.members)} member schools; {card.method}")
    registry = load_registry()
    for r in card.rows:
        fmt = registry.get(r.measure).format_value if r.measure in registry else (lambda v: f"{v:g}")
        parts = [f"  {r.label[:56]:<56} {r.display:>9}"]
        if r.national is not None:
            parts.append(f"national {fmt(r.national)}")
        if r.percentile is not None and r.polarity != "context":
            better = r.percentile if r.polarity == "higher_better" else 100 - r.percentile
            parts.append(f"better than {better:.0f}%")
        if r.family_median is not None:
            parts.append(f"family {fmt(r.family_median)} (rank {r.family_rank}/{r.family_size})")
        if r.status != "ok":
            parts.append(f"[{r.status}{' ' + r.status_code if r.status_code else ''}]")
        parts.append(r.level_label)
        if r.flag:
            parts.append("FLAG: " + "; ".join(r.flag_reasons))
        print("  ".join(parts))
    if card.watchlist:
        print("Schools to watch:")
        for w in card.watchlist:
            print(f"  {w.urn} {w.name}: " + "; ".join(reason for _, reason in w.reasons))

def _impact(args: argparse.Namespace) -> int:
    from data.services.impact import group_impact, support_impact
    from metrics.impact import impact_json

    with _open() as store:
        found = (support_impact if args.support else group_impact)(store, args.group, args.measure)
    if args.format == "json":
        json.dump(impact_json(found), sys.stdout, indent=2)
        print()
        return 0
    r = found.result
    print(f"{found.group_name} ({found.kind} {found.group_id}): {found.measure.label}, {found.about}")
    print(f"{len(found.schools)} schools studied; comparison: similar schools not yet in any {found.kind}")
    print(f"  differences in {found.unit}, by year relative to joining (0: the year it joined; -2: measured from)")
    print(f"  {'year':>6} {'estimate':>9} {'95% interval':>22} {'schools':>8} {'pupils':>8}")
    for p in (*r.points, r.after):
        k = "after" if p.k is None else f"{p.k:+d}"
        if p.shown:
            interval = f"{p.low:+.2f} to {p.high:+.2f}"
            print(f"  {k:>6} {p.estimate:>+9.2f} {interval:>22} {p.schools:>8} {round(p.pupils):>8}")
        else:
            print(f"  {k:>6} {'-':>9} {'-':>22} {p.schools:>8} {round(p.pupils):>8}  {p.reason}")
    print(found.words)
    print(f"Pre-join check: {r.pretrend_words}")
    for c in r.caveats:
        print(f"- {c}")
    return 0


def _support(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from data.services.support import support_partners

    with _open() as store:
        partners = support_partners(store, args.school, args.measure, args.period)
    if args.format == "json":
        json.dump([asdict(p) for p in partners], sys.stdout, indent=2)
        print()
        return 0
    if not partners:
        print("no school strong on this measure was found in the school's groups or its family")
    for p in partners:
        km = "" if p.distance_km is None else f", {p.distance_km:g} km"
        contact = ", ".join(x for x in (p.head_name, p.telephone, p.website) if x)
        print(f"  {p.name} ({p.urn}) {p.display}, better than {p.percentile:.0f}% nationally; {p.relation}{km}"
              + (f"; contact: {contact}" if contact else ""))
    return 0


def _family(args: argparse.Namespace) -> int:
    from data.services.families import family

    weights = None
    if args.weights:
        try:
            weights = {k.strip(): float(v) for k, v in (part.split("=") for part in args.weights.split(","))}
        except ValueError as exc:
            raise StoreError(f"--weights should look like disadvantaged_pct=2,eal_pct=1 ({exc})") from exc
    with _open() as store:
        df = family(store, args.school, weights=weights, size=args.size)
    print(df.to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    return 0


def _groups(args: argparse.Namespace) -> int:
    cmd = getattr(args, "groups_command", None)
    if cmd not in (None, "list"):
        return _group_change(args)
    with _open() as store:
        df = groups_svc.groups(store, args.kind)
    for r in df.itertuples():
        print(f"{r.group_id:>6}  {r.kind:<12} {r.members:>4} schools  {r.name}")
    return 0


def _cli_actor() -> str:
    """Who made a change from the command line, as the audit log records it: cli:<the account running it>."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in the environment (some containers): still a command-line change
        return "cli"


def _group_change(args: argparse.Namespace) -> int:
    """groups create|add|remove|show|rename|nest|close|reopen, acting as an admin (data/services/group_admin.py)."""
    from data.services import group_admin
    from data.services.access import Role, Viewer

    admin = Viewer(Role.ADMIN, None, _cli_actor())
    cmd = args.groups_command
    with _open() as store:
        def group(text: str) -> int:
            found = groups_svc.find_group(store, text)
            if found is None:
                raise StoreError(f"there is no group {text!r}: `python -m data groups` lists them by id and name")
            return found.group_id

        if cmd == "create":
            if args.name and args.name_option and args.name != args.name_option:
                raise StoreError("give the group's name once (either NAME or --name)")
            parent = group(args.parent) if args.parent else None
            gid = group_admin.create_group(store, admin, args.kind, args.name or args.name_option or "",
                                           parent_id=parent, opened=args.opened)
            print(f"created {groups_svc.find_group(store, gid).name} ({args.kind}, id {gid})")
        elif cmd == "add":
            gid = group(args.group)
            done = group_admin.add_schools(store, admin, gid, args.urns, args.joined)
            print(f"added {len(done.joined)} school{'s' if len(done.joined) != 1 else ''} to "
                  f"{groups_svc.find_group(store, gid).name} from "
                  f"{group_admin.parse_day(args.joined) if args.joined else 'today'}")
        elif cmd == "remove":
            gid = group(args.group)
            group_admin.record_left(store, admin, gid, args.urn, args.left)
            print(f"{args.urn} left {groups_svc.find_group(store, gid).name} on {args.left or 'today'} "
                  "(its stay is kept)")
        elif cmd == "show":
            _print_group(group_admin.group_detail(store, admin, group(args.group)))
        elif cmd == "rename":
            gid = group(args.group)
            before = groups_svc.find_group(store, gid).name
            group_admin.rename_group(store, admin, gid, args.new_name)
            print(f"renamed {before} to {groups_svc.find_group(store, gid).name}")
        elif cmd == "nest":
            gid = group(args.group)
            group_admin.set_parent(store, admin, gid, group(args.parent) if args.parent else None)
            print(f"{groups_svc.find_group(store, gid).name} is now " + (f"inside {args.parent}" if args.parent
                                                                         else "not inside another group"))
        elif cmd == "close":
            gid = group(args.group)
            ended = group_admin.close_group(store, admin, gid, args.on)
            print(f"closed {groups_svc.find_group(store, gid).name} on {args.on or 'today'}; {ended} schools' stays "
                  "end then (their results before stay in its history)")
        else:
            gid = group(args.group)
            back = group_admin.reopen_group(store, admin, gid)
            print(f"reopened {groups_svc.find_group(store, gid).name}; {back} schools' stays continue")
    return 0


def _consent(args: argparse.Namespace) -> int:
    """consent GROUP: each member's answer; consent GROUP URN... --agree|--decline: record them
    (data/services/consent.py)."""
    from data.services import consent
    from data.services.access import Role, Viewer

    admin = Viewer(Role.ADMIN, None, _cli_actor())
    with _open() as store:
        found = groups_svc.find_group(store, args.group)
        if found is None:
            raise StoreError(f"there is no group {args.group!r}: `python -m data groups` lists them by id and name")
        if args.urns:
            if not (args.agree or args.decline):
                raise StoreError("say the schools' answer: --agree or --decline")
            problems = consent.record_consents(store, admin, found.group_id, dict.fromkeys(args.urns, args.agree),
                                               args.note)
            if problems:
                raise StoreError("; ".join(problems) + " Nothing was recorded")
            one = len(args.urns) == 1
            verb = ("agrees" if one else "agree") if args.agree else ("does not agree" if one else "do not agree")
            print(f"recorded: {len(args.urns)} school{'' if one else 's'} {verb} to publish jointly with {found.name}")
        elif args.agree or args.decline:
            raise StoreError("name the schools (their URNs) whose answer to record")
        answers = consent.consents(store, admin, found.group_id)
    print(f"{found.name}: {sum(c.agreed for c in answers.values())} of {len(answers)} schools agree to publish "
          "jointly")
    for c in sorted(answers.values(), key=lambda c: c.name):
        when = f" ({c.recorded_by}, {c.recorded_at:%d %B %Y})" if c.recorded_at else ""
        print(f"  {c.urn}  {c.name:<40} {c.answer}{when}")
    return 0


def _print_group(detail) -> None:
    g = detail.group
    state = f"closed on {g.close_date}" if g.closed else "open"
    print(f"{g.name}: {g.kind_words}, {state}, id {g.group_id}"
          + (" (from the DfE's files: read-only)" if g.dfe else ""))
    print(f"inside: {g.parent_name or 'no other group'}")
    print("groups in it: " + (", ".join(detail.children) or "none"))
    today = sum(1 for s in detail.stays if s.left is None)
    print(f"schools: {today} now, {len({s.urn for s in detail.stays})} ever")
    for s in detail.stays:
        joined = f"joined {s.joined}" if s.joined else "joined before our records"
        left = f"left {s.left}" if s.left else "still a member"
        extra = "; ".join(x for x in (f"trust {', '.join(s.trusts)}" if s.trusts else "",
                                      f"in {s.subgroup}" if s.subgroup else "") if x)
        print(f"  {s.urn}  {s.name:<40} {joined:<22} {left:<18} {extra}".rstrip())
    for i in detail.invitations:
        print(f"  {i.urn}  {i.school_name:<40} invited by {i.invited_by}: joins on {i.joined} if its head accepts")


def _forget_period(args: argparse.Namespace) -> int:
    from data.db.store import backup_store
    from data.ingest.derived import forget_period, period_counts
    from metrics.periods import PeriodError, parse_period

    try:
        period = parse_period(args.period)
    except PeriodError as exc:
        raise StoreError(str(exc)) from exc
    at_terminal = sys.stdin.isatty()
    if not args.yes and not at_terminal:
        raise StoreError(f"forget-period removes every value of {period}: add --yes to confirm (no terminal to ask "
                         "at); nothing was removed")
    path = default_path()
    if not path.exists():
        raise StoreError(f"there is no store at {path}: nothing was removed")
    with _open() as store:
        held = period_counts(store, period)
    if not (held.school_values or held.local_values or held.local_group_values or held.benchmarks):
        raise StoreError(f"the store holds no values for {period}: nothing was removed")
    what = (f"{held.school_values:,} school values, {held.local_values:,} local measure values"
            f"{_by_group(held.local_group_values)} and {held.benchmarks:,} benchmarks of {period}")
    if not args.yes:
        answer = input(f"Remove {what} from {path}? A backup is kept. Type {period} to confirm: ")
        if answer.strip() != period:
            print("nothing was removed")
            return 1
    with _writing() as store:
        backup = backup_store(path)  # under the writer lock: the current snapshot, whole, as it was
        done = forget_period(store, period, actor="cli")
    print(f"removed {done.school_values:,} school values, {done.local_values:,} local measure values"
          f"{_by_group(done.local_group_values)}, "
          f"{done.benchmarks:,} benchmarks and {done.derived:,} derived rows of {period}; derived tables rebuilt; "
          f"the store as it was is kept as {backup}")
    return 0


def _by_group(n: int) -> str:
    """The local measure values by pupil group a year holds, in words (nothing when there are none)."""
    return f" (and {n:,} by pupil group)" if n else ""


def _undo_import(args: argparse.Namespace) -> int:
    from data.db.store import backup_store
    from data.ingest.undo import plan, undo_import

    path = default_path()
    if not path.exists():
        raise StoreError(f"there is no store at {path}: nothing was undone")
    with _open() as store:
        found = plan(store, args.import_id)
    if found.refusal:
        raise StoreError(f"{found.refusal} Nothing was changed")
    if not args.yes and not sys.stdin.isatty():
        raise StoreError(f"undo-import changes the store: add --yes to confirm (no terminal to ask at). "
                         f"{found.sentence()} Nothing was changed")
    if not args.yes:
        answer = input(f"{found.sentence()} A backup is kept. Type {args.import_id} to confirm: ")
        if answer.strip() != str(args.import_id):
            print("nothing was changed")
            return 1
    from data.ingest.store_check import check_store

    with _writing() as store:
        backup = backup_store(path)  # under the writer lock: the current snapshot, whole, as it was
        done = undo_import(store, "cli", args.import_id, backup=str(backup))
        findings = check_store(store)
    print(f"undid import {done.import_id} ({done.file_name}): removed {done.values_removed:,} rows it added and "
          f"put back {done.values_restored:,} rows it replaced; derived tables rebuilt; the store as it was is "
          f"kept as {backup}")
    _print_findings(findings)
    return 0


def _optimize(args: argparse.Namespace) -> int:
    with _writing() as store:
        store.recluster()
    print("observations re-sorted by group")
    return 0


def _export_public(args: argparse.Namespace) -> int:
    from data.outputs.public_export import export_public, public_state_path

    with _open() as store:
        counts = export_public(store, args.out)
    print(f"{args.out}: {counts['publications']} published results, {counts['publication_items']} measures, "
          f"{counts['publication_school_values']} school values, {counts['publication_schools']} schools "
          f"(with its state file {public_state_path(args.out)}: copy both to the parents' host)")
    return 0


def _publish_site(args: argparse.Namespace) -> int:
    from data.outputs.site import build_site, load_catalogue

    load_catalogue(args.messages)  # a bad messages file is said before the store is opened
    with _open() as store:
        report = build_site(store, args.out, messages=args.messages)
    print(report.summary())
    return 0


def _read_password() -> str:
    """The password from standard input: asked for without echo at a terminal, else the first line piped in.
    Never an argument, so it stays out of the shell history and the process list."""
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("Password: ")
    return sys.stdin.readline().rstrip("\r\n")


def _users(args: argparse.Namespace) -> int:
    from data.services import accounts

    cmd = args.users_command
    with _open() as store:
        if cmd == "list":
            _print_users(accounts.list_users(store))
            return 0
        if cmd == "add":
            password = _read_password() if args.password_stdin else None
            problems = accounts.add_user(store, "cli", email=args.email, role=args.role, group=args.group,
                                         display_name=args.name, password=password, school_urn=args.school)
            done = f"added {accounts.normal_email(args.email)} ({args.role})"
        elif cmd == "remove":
            problems = accounts.remove_user(store, "cli", args.email)
            done = f"removed {accounts.normal_email(args.email)}"
        elif cmd == "set-role":
            problems = accounts.set_role(store, "cli", args.email, args.role, args.group, school_urn=args.school)
            done = f"{accounts.normal_email(args.email)} is now {args.role}"
        else:
            problems = accounts.set_password(store, "cli", args.email, _read_password())
            done = f"password set for {accounts.normal_email(args.email)}"
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        return 2
    print(done)
    return 0


def _print_users(users: list[dict]) -> None:
    if not users:
        print("no accounts yet: add the first admin with `python -m data users add EMAIL --role admin "
              "--password-stdin`")
    for u in users:
        scope = "all groups" if u["group_id"] is None else f"{u['group_name']} ({u['group_id']})"
        if u["school_urn"] is not None:
            scope += f", school {u['school_urn']}"
        sign = "password" if u["has_password"] else "single sign-on only"
        state = f"; {u['failed_sign_ins_24h']} failed sign-ins in 24 h" if u["failed_sign_ins_24h"] else ""
        last = f"{u['last_sign_in']:%Y-%m-%d %H:%M}" if u["last_sign_in"] else "never"
        print(f"  {u['email']:<36} {u['role']:<9} {scope}; {sign}; last sign-in {last}{state}"
              + (f"; name {u['display_name']}" if u["display_name"] else ""))


def _move_state(args: argparse.Namespace) -> int:
    """move-state: a single-file store's state rows into the state store (data.db.state.move_state)."""
    from data.db.state import move_state, state_url_for

    path = default_path()
    if not path.exists():
        raise StoreError(f"there is no store at {path}: nothing was moved")
    if not args.yes and not sys.stdin.isatty():
        raise StoreError("move-state moves what people wrote into the state store: add --yes to confirm (no terminal "
                         "to ask at); nothing was moved")
    if not args.yes:
        answer = input(f"Move what people wrote in {path} to the state store {state_url_for(path).split('@')[-1]}? "
                       "Backups are kept. Type yes to confirm: ")
        if answer.strip().lower() != "yes":
            print("nothing was moved")
            return 1
    done = move_state(path)
    if not done.total:
        print(f"nothing to move: {path} holds no state rows (the state store is {done.state})")
        return 0
    rows = ", ".join(f"{n:,} {t}" for t, n in sorted(done.rows.items()) if n)
    print(f"moved {done.total:,} rows to the state store {done.state} ({rows}); every row checked; backups kept as "
          f"{done.backup}" + (f" and {done.state_backup}" if done.state_backup else ""))
    return 0


_COMMANDS = {
    "demo": _demo, "import": _import, "info": _info, "scorecard": _scorecard, "support": _support,
    "impact": _impact,
    "family": _family, "groups": _groups, "optimize": _optimize, "users": _users,
    "export-public": _export_public, "rebuild": _rebuild,
    "forget-period": _forget_period, "undo-import": _undo_import, "consent": _consent,
    "move-state": _move_state, "publish-site": _publish_site,
}
