"""Analysing an ADT/order feed: who is still admitted, which records were merged.

:func:`medlab.hl7.summarize` counts messages; the questions a RIS or PACS
administrator asks of a feed go further:

* **Which admissions never ended?** An ADT^A01 (admit) opens an inpatient
  visit; an ADT^A03 (discharge) closes it; A11 cancels an admission and A13
  cancels a discharge (HL7 v2.5.1 Chapter 3, 3.3.1-3.3.13). A visit with an
  A01 and no A03 is either still in hospital or a lost discharge, and keeps
  worklists and billing open.
* **Which records were merged?** When one person got two medical record
  numbers, the master patient index merges them: ADT^A18 (merge patient
  information, v2.3-v2.6) or ADT^A40 (merge patient - patient identifier
  list, v2.3.1 onward), with the surviving ID in PID-3 and the retired one in
  MRG-1 (3.4.10, 3.3.40). Studies already in the PACS under the retired ID
  must be reconciled (IHE Radiology Patient Information Reconciliation).

:func:`feed_table` turns a feed into one row per message by splitting the
segments on the delimiters each message declares (no hl7apy: fast enough for
a day's feed), and the functions below answer the questions on that table.
:func:`ward_feed` writes a reproducible example feed for the lesson.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = (
    "control_id",
    "time",
    "hour",
    "message",
    "type",
    "trigger",
    "facility",
    "patient_id",
    "patient_name",
    "visit",
    "prior_id",
)


def _fields(segment: str, sep: str) -> list[str]:
    return segment.split(sep)


def _row(message: str) -> dict[str, object] | None:
    segments = [s for s in message.replace("\n", "\r").split("\r") if s]
    if not segments or not segments[0].startswith("MSH") or len(segments[0]) < 8:
        return None
    msh = segments[0]
    sep, comp = msh[3], msh[4]
    f = msh.split(sep)  # f[n - 1] is MSH-n, because MSH-1 is the field separator itself

    def get(i: int) -> str:
        return f[i] if i < len(f) else ""

    msg_type = get(8).split(comp)
    row: dict[str, object] = {
        "control_id": get(9),
        "time": get(6)[:14],
        "hour": get(6)[8:10],
        "type": msg_type[0],
        "trigger": msg_type[1] if len(msg_type) > 1 else "",
        "facility": get(3).split(comp)[0],
        "patient_id": "",
        "patient_name": "",
        "visit": "",
        "prior_id": "",
    }
    for seg in segments[1:]:
        parts = seg.split(sep)
        name = parts[0]
        if name == "EVN" and not row["trigger"] and len(parts) > 1:
            row["trigger"] = parts[1]
        elif name == "PID":
            if len(parts) > 3:
                row["patient_id"] = parts[3].split("~")[0].split(comp)[0]
            if len(parts) > 5:
                row["patient_name"] = parts[5].split("~")[0].split(comp)[0]
        elif name == "PV1" and len(parts) > 19:
            row["visit"] = parts[19].split(comp)[0]
        elif name == "MRG" and len(parts) > 1:
            row["prior_id"] = parts[1].split("~")[0].split(comp)[0]
    row["message"] = f"{row['type']}^{row['trigger']}" if row["trigger"] else str(row["type"])
    return row


def feed_table(source: str | Path | Iterable[str]) -> pd.DataFrame:
    """One row per message: control ID, time, hour, type^trigger, facility, PID-3.1,
    PID-5.1 (family name), PV1-19 (visit number), MRG-1 (prior ID of a merge).

    ``source`` is a log file (read with :func:`medlab.hl7.read_log`) or message texts.
    Messages without a readable MSH are skipped (count in ``df.attrs["unreadable"]``).
    """
    import pandas as pd

    from medlab.hl7.log import read_log

    messages = read_log(source) if isinstance(source, (str, Path)) else source
    rows, bad = [], 0
    for message in messages:
        row = _row(message)
        if row is None:
            bad += 1
        else:
            rows.append(row)
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    df["time"] = pd.to_datetime(
        df["time"].str.ljust(14, "0"), format="%Y%m%d%H%M%S", errors="coerce"
    )
    df.attrs["unreadable"] = bad
    return df


def by_hour(df: pd.DataFrame) -> pd.DataFrame:
    """Messages per type^trigger (rows) and hour of the day (columns, 00-23)."""
    import pandas as pd

    table = pd.crosstab(df["message"], df["hour"])
    return table.reindex(columns=sorted(table.columns))


def open_admissions(df: pd.DataFrame) -> pd.DataFrame:
    """Visits with an ADT^A01 and no discharge (A03) after it, taking A11/A13 into account.

    A visit is identified by PV1-19 (visit number), or by the patient ID when
    the feed has no visit numbers. Returns one row per open visit: patient ID,
    name, visit, admitted (time of the A01), last message.
    """
    import pandas as pd

    adt = df[df["type"] == "ADT"].sort_values("time", kind="stable")
    state: dict[str, dict[str, object]] = {}
    for row in adt.itertuples(index=False):
        key = row.visit or row.patient_id
        trigger = row.trigger
        if trigger == "A01":
            state[key] = {
                "patient_id": row.patient_id,
                "patient_name": row.patient_name,
                "visit": row.visit,
                "admitted": row.time,
                "last": row.message,
                "open": True,
            }
        elif key in state:
            entry = state[key]
            entry["last"] = row.message
            if trigger in ("A03", "A11"):  # discharged, or the admission was cancelled
                entry["open"] = False
            elif trigger == "A13":  # the discharge was cancelled: open again
                entry["open"] = True
    rows = [{k: v for k, v in e.items() if k != "open"} for e in state.values() if e["open"]]
    out = pd.DataFrame(rows, columns=["patient_id", "patient_name", "visit", "admitted", "last"])
    return out.sort_values(["admitted", "visit"], kind="stable").reset_index(drop=True)


def merges(df: pd.DataFrame) -> pd.DataFrame:
    """Merge events (A18, A34, A36, A40...) to review: when, surviving ID, retired ID (MRG-1)."""
    rows = df[(df["type"] == "ADT") & (df["prior_id"] != "")]
    return rows[
        ["time", "message", "patient_id", "patient_name", "prior_id", "control_id"]
    ].reset_index(drop=True)


def plot_by_hour(df: pd.DataFrame, *, figsize: tuple[float, float] = (8, 2.8)):
    """Stacked bars: messages per hour of the day, one colour per message code (ADT, ORM, ORU...)."""
    import matplotlib.pyplot as plt
    import pandas as pd

    table = pd.crosstab(df["hour"], df["type"]).reindex(
        [f"{h:02d}" for h in range(24)], fill_value=0
    )
    fig, ax = plt.subplots(figsize=figsize, dpi=80, layout="constrained")
    bottom = None
    for code in table.columns:
        ax.bar(table.index, table[code], bottom=bottom, label=code)
        bottom = table[code] if bottom is None else bottom + table[code]
    ax.set_xlabel("hour of day (MSH-7)", fontsize=8)
    ax.set_ylabel("messages", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, ncols=len(table.columns))
    plt.close(fig)
    return fig


# --------------------------------------------------------------------------- example feed
_FAMILY = [
    "ABBOTT",
    "BAPTISTE",
    "CHOWDHURY",
    "DIALLO",
    "EKSTROM",
    "FONSECA",
    "GALLAGHER",
    "HOLLOWAY",
    "IBARRA",
    "JANSSEN",
    "KHOURY",
    "LINDQVIST",
    "MBEKI",
    "NAKASHIMA",
    "ORTEGA",
    "PETROV",
    "QUINLAN",
    "ROSSETTI",
    "SATO",
    "TREMBLAY",
]
_GIVEN = ["ADA", "BRUNO", "CLARA", "DEV", "ELENA", "FELIX", "GRETA", "HUGO", "IRIS", "JONAH"]


def _msh(when: str, code: str, structure: str, control: str, sender: str = "MEDLAB_ADT") -> str:
    return (
        f"MSH|^~\\&|{sender}|MEDLAB HOSP|MEDLAB_RIS|MEDLAB RAD|{when}||{code}^{structure}|"
        f"{control}|P|2.5.1"
    )


def ward_messages(patients: int = 40, seed: int = 14, start: str = "20260316") -> Iterator[str]:
    """A reproducible three-day feed: registrations, admissions, discharges, orders, results, merges.

    Most admitted patients are discharged (A03); a few are not (still in, or a
    lost discharge); one admission is cancelled (A11) and one discharge is
    cancelled (A13); two patients registered twice are merged, one with an
    A40 and one with an A18 (PID-3 surviving ID, MRG-1 retired ID).
    """
    import datetime as dt

    rng = random.Random(seed)
    day0 = dt.datetime.strptime(start, "%Y%m%d")
    events: list[tuple[dt.datetime, str, list[str]]] = []
    counter = 0

    def stamp(t: dt.datetime) -> str:
        return t.strftime("%Y%m%d%H%M%S")

    def add(
        t: dt.datetime, code: str, structure: str, body: list[str], sender: str = "MEDLAB_ADT"
    ) -> None:
        events.append((t, f"{code}^{structure}", [code, structure, sender, *body]))

    for n in range(patients):
        pid = f"MLB-2{n:05d}"
        name = f"{_FAMILY[n % len(_FAMILY)]}^{_GIVEN[(n * 7) % len(_GIVEN)]}"
        visit = f"V26{n:05d}"
        # Clinic hours peak late morning; admissions arrive around the clock, more by day.
        hour = rng.choice([7, 8, 9, 9, 10, 10, 10, 11, 11, 13, 14, 15, 16, 19, 22, 2])
        t = day0 + dt.timedelta(days=rng.randrange(2), hours=hour, minutes=rng.randrange(60))
        pid_seg = f"PID|1||{pid}^^^MEDLAB^MR||{name}||19{rng.randrange(40, 99)}0{rng.randrange(1, 10)}1{rng.randrange(10)}|{rng.choice('MF')}"
        inpatient = n % 3 != 0
        pv1 = (
            f"PV1|1|{'I' if inpatient else 'O'}|{'MED^4' if inpatient else 'OPD^1'}{n % 9:02d}^1^MEDLAB"
            + "|" * 15
            + f"|{visit}^^^MEDLAB^VN"
        )
        trigger = "A01" if inpatient else "A04"
        add(t, f"ADT^{trigger}", "ADT_A01", [f"EVN|{trigger}|{stamp(t)}", pid_seg, pv1])
        if n % 4 == 1:
            t2 = t + dt.timedelta(hours=rng.randrange(2, 9))
            add(t2, "ADT^A08", "ADT_A01", [f"EVN|A08|{stamp(t2)}", pid_seg, pv1])
        if n % 2 == 0:  # an imaging order and, later, its result
            t3 = t + dt.timedelta(minutes=rng.randrange(20, 180))
            acc = f"A26{n:06d}"
            add(
                t3,
                "ORM^O01",
                "ORM_O01",
                [
                    pid_seg,
                    pv1,
                    f"ORC|NW|PLC{n:05d}|||SC||||{stamp(t3)}",
                    f"OBR|1|PLC{n:05d}||CTCHEST^CT chest^L"
                    + "|" * 14
                    + f"|{acc}|RP{n:05d}|SPS{n:05d}||||CT",
                ],
                sender="MEDLAB_OE",
            )
            t4 = t3 + dt.timedelta(hours=rng.randrange(1, 6))
            add(
                t4,
                "ORU^R01",
                "ORU_R01",
                [
                    pid_seg,
                    f"OBR|1||{acc}|CTCHEST^CT chest^L" + "|" * 20 + "|F",
                    "OBX|1|TX|19005-8^Impression^LN||No acute abnormality.||||||F",
                ],
                sender="MEDLAB_RIS",
            )
        if inpatient:
            if n == 7:  # admitted in error: the admission is cancelled, no discharge follows
                t7 = t + dt.timedelta(minutes=25)
                add(t7, "ADT^A11", "ADT_A09", [f"EVN|A11|{stamp(t7)}", pid_seg, pv1])
            elif n not in (4, 11, 23):  # three admissions get no discharge
                # discharges happen the next day or the one after, during the day shift
                day = dt.datetime(t.year, t.month, t.day) + dt.timedelta(days=1 + rng.randrange(2))
                t5 = day + dt.timedelta(hours=rng.randrange(10, 18), minutes=rng.randrange(60))
                add(t5, "ADT^A03", "ADT_A03", [f"EVN|A03|{stamp(t5)}", pid_seg, pv1])
                if n == 17:  # discharged by mistake, then the discharge is cancelled
                    t6 = t5 + dt.timedelta(minutes=40)
                    add(t6, "ADT^A13", "ADT_A01", [f"EVN|A13|{stamp(t6)}", pid_seg, pv1])
    # Two people registered twice: a temporary ID, then the merge onto the real one.
    for n, trigger, structure in ((2, "A40", "ADT_A39"), (9, "A18", "ADT_A18")):
        pid = f"MLB-2{n:05d}"
        temp = f"TMP-{900 + n}"
        name = f"{_FAMILY[n % len(_FAMILY)]}^{_GIVEN[(n * 7) % len(_GIVEN)]}"
        t = day0 + dt.timedelta(days=2, hours=9 + n % 5, minutes=5 * n % 60)
        add(
            t - dt.timedelta(hours=20),
            "ADT^A04",
            "ADT_A01",
            [
                f"EVN|A04|{stamp(t - dt.timedelta(hours=20))}",
                f"PID|1||{temp}^^^MEDLAB^MR||{name}",
                "PV1|1|E|ED^01^1^MEDLAB",
            ],
        )
        add(
            t,
            f"ADT^{trigger}",
            structure,
            [
                f"EVN|{trigger}|{stamp(t)}",
                f"PID|1||{pid}^^^MEDLAB^MR||{name}",
                f"MRG|{temp}^^^MEDLAB^MR",
            ],
        )
    events.sort(key=lambda e: (e[0], e[1]))
    for t, _key, (code, structure, sender, *body) in events:
        counter += 1
        yield "\r".join([_msh(stamp(t), code, structure, f"MSG{counter:06d}", sender), *body])


def ward_feed(path: str | Path | None = None, **options: object) -> Path:
    """Write :func:`ward_messages` to a log file (default ``<medlab home>/hl7/ward_feed.hl7``)."""
    from medlab import paths
    from medlab.hl7.log import write_log

    target = Path(path) if path is not None else paths.home() / "hl7" / "ward_feed.hl7"
    paths.private_dir(target.parent)
    write_log(target, ward_messages(**options))  # type: ignore[arg-type]
    return target
