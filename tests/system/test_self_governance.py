"""Self-governance through the gateway of `academy run`: a policy proposal with its what-if, votes from several
members, the window closed by the worker's schedule, the adopted policy on the next booking's invoice and the old one
on earlier ones; a proposal nobody votes for changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.system.processes import EmbeddedProcess
from tests.system.slice import Academy, eventually

pytestmark = pytest.mark.slow
SHARES = {"provider": 6500, "academy": 2000, "community_fund": 1500}  # default: 7000, 2000, 1000


def propose(academy: Academy, token: str, title: str) -> dict:
    body = {"kind": "policy", "title": title, "reasons": "A larger community fund.",
            "policy": {"shares_bp": SHARES,
                       # passes during the vote: billing makes it effective from the acceptance on
                       "effective_from": (datetime.now(UTC) + timedelta(seconds=1)).isoformat()}}

    def attempt():
        # 403 until the catalog has heard of the proposer's booking from booking's events.
        answer = academy.call("POST", "/api/v1/proposals", token, json=body)
        assert answer.status_code == 201, answer.text
        return answer.json()

    return eventually(attempt)


def test_members_adopt_a_revenue_policy_by_vote(tmp_path, monkeypatch):
    monkeypatch.setenv("PROPOSAL_DISCUSSION_SECONDS", "1")
    monkeypatch.setenv("PROPOSAL_VOTING_SECONDS", "15")
    academy_process = EmbeddedProcess(tmp_path / "data", tmp_path).start()
    try:
        academy = Academy(academy_process.url, academy_process.keys_dir)
        _, provider = academy.member("provider")
        _, session_id = academy.published_offer(provider)
        _, ann = academy.member("ann")
        _, ben = academy.member("ben")
        academy.book(ann, session_id)
        academy.book(ben, session_id)
        [earlier] = eventually(lambda: academy.invoices(ann), timeout=60)

        adopted = propose(academy, ann, "A larger community fund")
        ignored = propose(academy, ben, "Nobody cares for this one")
        url = f"/api/v1/proposals/{adopted['id']}"
        # Members vote informed: billing's what-if over the last year, with the two invoices booked above.
        what_if = eventually(lambda: academy.call("GET", url).json()["what_if"], timeout=30)
        assert sum(what_if["actual"].values()) == sum(what_if["simulated"].values()) > 0
        assert what_if["difference"]["community_fund"] > 0 > what_if["difference"]["provider"]
        eventually(lambda: academy.call("GET", url).json()["phase"] == "voting", timeout=30)
        for token, choice in ((provider, "yes"), (ann, "yes"), (ben, "no")):
            voted = academy.call("PUT", f"{url}/vote", token, json={"choice": choice})
            assert voted.status_code == 200, voted.text
        assert academy.call("GET", url, ben).json()["my_vote"] == "no"

        done = eventually(lambda: academy.call("GET", url).json()["carried_out_at"] and academy.call("GET", url).json(),
                          timeout=60)
        assert done["outcome"] == "accepted"
        assert done["result"] == {"yes": 2, "no": 1, "abstain": 0, "eligible": 3, "quorum_reached": True}
        version = done["carried_out"]["policy_version"]
        rejected = eventually(lambda: academy.call("GET", f"/api/v1/proposals/{ignored['id']}").json()["outcome"],
                              timeout=60)
        assert rejected == "rejected"

        _, cleo = academy.member("cleo")
        # The adopted version takes effect from the next full second after billing adopted it: book after that.
        eventually(lambda: academy.call("GET", "/api/v1/revenue-policies", cleo).json()["in_force"] == version,
                   timeout=30)
        academy.book(cleo, session_id)
        [later] = eventually(lambda: academy.invoices(cleo), timeout=60)

        def told_ann() -> list[str]:
            bodies = [message["body"] for message in academy.notifications(ann)
                      if "vote on the proposal" in message["body"] and "A larger community fund" in message["body"]]
            return bodies if len(bodies) == 2 else []

        told = eventually(told_ann, timeout=60)
        assert any("is open until" in body for body in told) and any("is accepted" in body for body in told)
        assert not any("vote on the proposal" in message["body"] for message in academy.notifications(cleo))
    except AssertionError:
        print(academy_process.process.log())
        raise
    finally:
        academy_process.kill()
    assert earlier["policy_version"] != version
    assert later["policy_version"] == version, "the rejected proposal added no version after the adopted one"
    assert fund_cents(later) > fund_cents(earlier)


def fund_cents(invoice: dict) -> int:
    return sum(line["cents"] for line in invoice["shares"] if line["purpose"] == "community_fund")
