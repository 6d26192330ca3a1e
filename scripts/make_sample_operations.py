#!/usr/bin/env python3
"""Generate the synthetic operational data bundled with cx-metrics: customers, orders, support tickets,
contact-centre calls and web / app events of the company whose customers answered the bundled sample
survey.

The data are fully determined by ``--seed`` (and the bundled survey, read for the respondents' wave,
segment and recommendation score): the same seed gives the same bytes. Only the Python standard
library and NumPy are used (``numpy.random.Generator`` over ``PCG64``).

Model (see ``python/cx_metrics/data/README.md`` for the full description):

1. Customers: the 2000 survey respondents (``customer_id`` = ``respondent_id``) and 1000 customers who
   were not surveyed (ids 2001-3000). Respondents signed up between 2024-01-01 and the middle of their
   survey wave's quarter and were customers when surveyed; the others signed up between 2024-01-01
   and 2026-11-30.
2. Churn: a constant monthly hazard (months of 30.4375 days) from the survey date for respondents
   (from sign-up for the others): ``BASE_HAZARD`` x the segment's factor x the factor of the
   respondent's NPS category (``CATEGORY_HAZARD``: detractors leave faster, promoters slower) x the
   customer's gamma frailty (mean 1, shape ``FRAILTY_SHAPE``). A
   cancellation after ``AS_OF`` is not observed (blank).
3. Orders: each customer buys as a Poisson process while a customer, at a monthly rate drawn from a
   gamma distribution (heterogeneous buyers), with order values drawn from a gamma distribution
   around the customer's own mean spend (promoters spend a little more).
4. Tickets: 2026 support tickets by email, chat or phone; the first reply comes after a log-normal
   delay (per channel; email twelve times slower from 22 December, a holiday backlog); 3 % are closed
   without a reply; a ticket whose reply or resolution would come
   after ``AS_OF`` is still open at ``AS_OF`` (blank).
5. Calls: December 2026 calls to two queues: the caller waits an exponential time for an agent and
   abandons if their exponential patience runs out first; answered calls have talk, hold and
   after-call work times (seconds).
6. Events: the December 2026 web and app events of the customers who were customers then. A share
   of them visit, in one or more sessions; a session is a visit, perhaps a search, product views, an
   add to cart, a checkout and a purchase, each reached with a probability (``STEP_PROBABILITY``,
   higher for promoters, lower for detractors); a checkout may hit a payment error, after which the
   customer may contact support and buys less often; a cart left in one session may be checked out in
   a later one (so conversion windows matter); the app logs some add-to-cart and checkout events in
   the same second (so the order of equal timestamps matters); a few purchases are refunded days
   later. Events after ``AS_OF`` are not observed.

Usage::

    python scripts/make_sample_operations.py --seed 20261206 --out python/cx_metrics/data
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
from pathlib import Path

import numpy as np

DEFAULT_SEED = 20261206
SURVEY = Path(__file__).resolve().parents[1] / "python" / "cx_metrics" / "data" / "sample_survey.csv"
AS_OF = dt.datetime(2026, 12, 31, 18, 0)
"""The end of observation: nothing after it is in the data."""
FIRST_DAY = dt.date(2024, 1, 1)
N_OTHERS = 1000
MONTH_DAYS = 30.4375
BASE_HAZARD = 0.018
"""Monthly churn hazard of a passive customer in the north."""
SEGMENT_HAZARD = {"north": 1.0, "south": 1.25, "east": 0.85, "west": 1.1}
FRAILTY_SHAPE = 0.7
"""Customers differ in their propensity to leave: each one's hazard is multiplied by a gamma frailty of
mean 1 and this shape (so a cohort's churn rate falls as the quick leavers go)."""
CATEGORY_HAZARD = {"detractor": 1.9, "passive": 1.0, "promoter": 0.55, "unknown": 1.15}
WAVE_DATE = {
    "2026-Q1": dt.date(2026, 2, 14),
    "2026-Q2": dt.date(2026, 5, 15),
    "2026-Q3": dt.date(2026, 8, 15),
    "2026-Q4": dt.date(2026, 11, 14),
}
"""The middle of each survey wave's quarter: when its respondents were surveyed."""
CHANNELS = ("email", "chat", "phone")
CHANNEL_SHARE = (0.5, 0.3, 0.2)
REPLY_MEDIAN_MINUTES = {"email": 240.0, "chat": 4.0, "phone": 2.0}
BACKLOG_FROM = dt.datetime(2026, 12, 22)
BACKLOG_FACTOR = 12.0

FILES = (
    "sample_customers.csv",
    "sample_orders.csv",
    "sample_tickets.csv",
    "sample_calls.csv",
    "sample_events.csv",
)
EVENTS_FROM = dt.datetime(2026, 12, 1)
VISIT_SHARE = 0.45
STEP_PROBABILITY = {
    # category: search, product view, add to cart, checkout, purchase (after a clean checkout)
    "promoter": (0.45, 0.85, 0.50, 0.70, 0.88),
    "passive": (0.50, 0.80, 0.42, 0.62, 0.82),
    "detractor": (0.55, 0.75, 0.34, 0.52, 0.74),
    "unknown": (0.50, 0.80, 0.42, 0.62, 0.82),
}
PAYMENT_ERROR = {"web": 0.10, "app": 0.05}


def _survey() -> list[dict[str, str]]:
    with SURVEY.open(newline="") as f:
        return list(csv.DictReader(f))


def _category(ltr: str) -> str:
    if ltr == "":
        return "unknown"
    v = int(ltr)
    return "promoter" if v >= 9 else "detractor" if v <= 6 else "passive"


def _day(first: dt.date, offset_days: float) -> dt.date:
    return first + dt.timedelta(days=int(np.floor(offset_days)))


def _moment(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S")


Active = list[tuple[int, str, dt.date, dt.date | None]]
"""Per customer: id, NPS category, sign-up date and cancellation date (None: still a customer)."""


def _customers(rng: np.random.Generator) -> tuple[list[list[str]], Active]:
    survey = _survey()
    segments = tuple(SEGMENT_HAZARD)
    rows: list[list[str]] = []
    active: Active = []
    n = len(survey) + N_OTHERS
    for i in range(n):
        if i < len(survey):
            r = survey[i]
            cid, segment, category = int(r["respondent_id"]), r["segment"], _category(r["ltr"])
            surveyed = WAVE_DATE[r["wave"]]
            signup = _day(FIRST_DAY, rng.uniform(0, (surveyed - FIRST_DAY).days))
            start_risk = surveyed
        else:
            cid, segment, category = i + 1, segments[int(rng.integers(0, 4))], "unknown"
            signup = _day(FIRST_DAY, rng.uniform(0, (dt.date(2026, 11, 30) - FIRST_DAY).days))
            start_risk = signup
        frailty = rng.gamma(FRAILTY_SHAPE, 1.0 / FRAILTY_SHAPE)
        hazard = BASE_HAZARD * SEGMENT_HAZARD[segment] * CATEGORY_HAZARD[category] * frailty
        months = min(rng.exponential(1.0 / hazard), 1200.0)  # beyond AS_OF either way
        end = _day(start_risk, months * MONTH_DAYS + 1.0)
        cancelled = end if end <= AS_OF.date() else None
        plan = "annual" if rng.random() < 0.3 else "monthly"
        fee = float(np.round(rng.lognormal(np.log(39.0 if plan == "monthly" else 33.0), 0.25), 2))
        rows.append(
            [
                str(cid),
                segment,
                plan,
                signup.isoformat(),
                "" if cancelled is None else cancelled.isoformat(),
                f"{fee:.2f}",
            ]
        )
        active.append((cid, category, signup, cancelled))
    return rows, active


def _orders(rng: np.random.Generator, active: Active) -> list[list[str]]:
    rows: list[list[str]] = []
    for cid, category, signup, cancelled in active:
        end = cancelled or AS_OF.date()
        months = (end - signup).days / MONTH_DAYS
        rate = rng.gamma(1.2, 0.18)
        count = int(rng.poisson(rate * months))
        spend = rng.gamma(4.0, 12.0) * (1.15 if category == "promoter" else 1.0)
        days = np.sort(rng.uniform(0, (end - signup).days, count))
        values = rng.gamma(6.0, spend / 6.0, count)
        for d, v in zip(days, values, strict=True):
            rows.append([str(cid), _day(signup, float(d)).isoformat(), f"{max(v, 1.0):.2f}"])
    rows.sort(key=lambda r: (r[1], int(r[0])))
    return [[str(k + 1), *r] for k, r in enumerate(rows)]


def _tickets(rng: np.random.Generator, active: Active) -> list[list[str]]:
    start = dt.datetime(2026, 1, 1)
    span = (AS_OF - start).total_seconds()
    rows: list[list[str]] = []
    n = 4000
    created = np.sort(rng.uniform(0, span, n))
    owners = rng.integers(0, len(active), n)
    channels = rng.choice(len(CHANNELS), n, p=CHANNEL_SHARE)
    for k in range(n):
        channel = CHANNELS[int(channels[k])]
        c = start + dt.timedelta(seconds=float(np.floor(created[k])))
        # The holiday backlog: email replies take twelve times as long from 22 December.
        slow = BACKLOG_FACTOR if channel == "email" and c >= BACKLOG_FROM else 1.0
        reply_min = slow * rng.lognormal(np.log(REPLY_MEDIAN_MINUTES[channel]), 1.1)
        resolve_min = reply_min + rng.lognormal(np.log(600.0 if channel == "email" else 90.0), 1.2)
        unanswered = rng.random() < 0.03
        reply = None if unanswered else c + dt.timedelta(minutes=float(reply_min))
        resolved = c + dt.timedelta(minutes=float(resolve_min))
        if reply is not None and reply > AS_OF:
            reply = None
            resolved = AS_OF + dt.timedelta(days=1)
        rows.append(
            [
                str(k + 1),
                str(active[int(owners[k])][0]),
                channel,
                _moment(c),
                "" if reply is None else _moment(reply),
                "" if resolved > AS_OF else _moment(resolved),
            ]
        )
    return rows


def _calls(rng: np.random.Generator) -> list[list[str]]:
    start = dt.datetime(2026, 12, 1, 8, 0)
    rows: list[list[str]] = []
    k = 0
    for day in range(31):
        opening = start + dt.timedelta(days=day)
        if opening.weekday() == 6:
            continue
        for queue, per_day, mean_wait in (("billing", 40, 25.0), ("support", 70, 45.0)):
            times = np.sort(rng.uniform(0, 10 * 3600, int(rng.poisson(per_day))))
            for t in times:
                k += 1
                wait = rng.exponential(mean_wait)
                patience = rng.exponential(300.0)
                answered = wait <= patience
                waited = wait if answered else patience
                talk = rng.lognormal(np.log(240.0), 0.6) if answered else 0.0
                hold = (rng.exponential(60.0) if rng.random() < 0.35 else 0.0) if answered else 0.0
                acw = rng.lognormal(np.log(45.0), 0.5) if answered else 0.0
                rows.append(
                    [
                        str(k),
                        queue,
                        _moment(opening + dt.timedelta(seconds=float(np.floor(t)))),
                        "1" if answered else "0",
                        f"{waited:.1f}",
                        f"{talk:.0f}",
                        f"{hold:.0f}",
                        f"{acw:.0f}",
                    ]
                )
    return rows


def _session_events(
    rng: np.random.Generator, category: str, channel: str, start: dt.datetime, carried: bool
) -> tuple[list[tuple[dt.datetime, str]], bool]:
    """One session's events from `start`, and whether a cart is left at its end."""
    p_search, p_view, p_cart, p_checkout, p_buy = STEP_PROBABILITY[category]
    t = start
    out = [(t, "visit")]

    def later(mean_seconds: float) -> dt.datetime:
        return t + dt.timedelta(seconds=1.0 + float(np.floor(rng.exponential(mean_seconds))))

    if rng.random() < p_search:
        t = later(40.0)
        out.append((t, "search"))
    cart = carried
    if not carried:
        if rng.random() >= p_view:
            return out, False
        for _ in range(int(rng.geometric(0.55))):
            t = later(70.0)
            out.append((t, "product_view"))
        if rng.random() >= p_cart:
            return out, False
        t = later(90.0)
        out.append((t, "add_to_cart"))
        cart = True
    if rng.random() >= p_checkout:
        # The cart stays for a later session with probability 0.5.
        return out, cart and rng.random() < 0.5
    same_second = channel == "app" and rng.random() < 0.15
    t = t if same_second else later(60.0)
    out.append((t, "checkout"))
    failed = rng.random() < PAYMENT_ERROR[channel]
    if failed:
        t = later(20.0)
        out.append((t, "payment_error"))
        if rng.random() < 0.5:
            t = later(120.0)
            out.append((t, "contact_support"))
    if rng.random() < (0.35 if failed else p_buy):
        t = later(45.0)
        out.append((t, "purchase"))
        if rng.random() < 0.04:
            t = t + dt.timedelta(days=float(rng.uniform(1.0, 6.0)))
            out.append((t.replace(microsecond=0), "refund"))
        return out, False
    return out, False


def _events(rng: np.random.Generator, active: Active) -> list[list[str]]:
    span = (AS_OF - EVENTS_FROM).total_seconds()
    rows: list[tuple[dt.datetime, int, int, str, str]] = []
    for cid, category, signup, cancelled in active:
        if signup > AS_OF.date() or (cancelled is not None and cancelled < EVENTS_FROM.date()):
            continue
        if rng.random() >= VISIT_SHARE:
            continue
        sessions = 1 + int(rng.poisson(0.7))
        starts = np.sort(rng.uniform(0, span, sessions))
        carried = False
        for start in starts:
            channel = "app" if rng.random() < 0.4 else "web"
            moment = EVENTS_FROM + dt.timedelta(seconds=float(np.floor(start)))
            events, carried = _session_events(rng, category, channel, moment, carried)
            for t, name in events:
                if t <= AS_OF:
                    rows.append((t, cid, len(rows), channel, name))
    rows.sort()
    return [[str(cid), channel, _moment(t), name] for t, cid, _, channel, name in rows]


HEADERS = {
    "sample_customers.csv": ["customer_id", "segment", "plan", "signup", "cancelled", "monthly_fee"],
    "sample_orders.csv": ["order_id", "customer_id", "order_date", "value"],
    "sample_tickets.csv": ["ticket_id", "customer_id", "channel", "created", "first_reply", "resolved"],
    "sample_calls.csv": [
        "call_id",
        "queue",
        "offered",
        "answered",
        "wait_seconds",
        "talk_seconds",
        "hold_seconds",
        "acw_seconds",
    ],
    "sample_events.csv": ["customer_id", "channel", "time", "event"],
}


def generate(seed: int = DEFAULT_SEED) -> dict[str, list[list[str]]]:
    """The five tables as rows of text, one independent random stream per table (a new table takes
    the next stream, so the others keep their bytes)."""
    customer_rng, order_rng, ticket_rng, call_rng, event_rng = (
        np.random.Generator(np.random.PCG64(s)) for s in np.random.SeedSequence(seed).spawn(5)
    )
    customers, active = _customers(customer_rng)
    return {
        "sample_customers.csv": customers,
        "sample_orders.csv": _orders(order_rng, active),
        "sample_tickets.csv": _tickets(ticket_rng, active),
        "sample_calls.csv": _calls(call_rng),
        "sample_events.csv": _events(event_rng, active),
    }


def to_csv(name: str, rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADERS[name])
    writer.writerows(rows)
    return out.getvalue()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, required=True, help="the directory to write the five files to")
    args = parser.parse_args(argv)
    for name, rows in generate(args.seed).items():
        (args.out / name).write_text(to_csv(name, rows), encoding="utf-8")


if __name__ == "__main__":
    main()
