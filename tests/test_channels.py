"""The channels letters travel by, as scenario data: who may use which, their delays, what
a public letter reaches, the defaults of a file that names none, and the terminal's
letter prompts that take numbers and names in words."""

from __future__ import annotations

import io
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console

from crisislab.play.briefing import brief
from crisislab.play.letters import (
    DEFAULT_CHANNELS,
    Letter,
    LetterError,
    arrival_words,
    can_write,
    channels,
    channels_for,
    delay_turns,
    pick_channel,
)
from crisislab.play.menu import Item, MenuError, choose, choose_many
from crisislab.play.script import MovesError, parse_moves
from crisislab.play.session import GameError, GameSetup, Session
from crisislab.play.tui import Terminal
from crisislab.scenario.loader import load_scenario, load_text
from crisislab.scenario.model import Scenario
from crisislab.scenario.schema import Channel

ROOT = Path(__file__).resolve().parents[1]
MINI_TEXT = (ROOT / "tests" / "data" / "mini.yaml").read_text(encoding="utf-8")
CUBA_TEXT = (ROOT / "src" / "crisislab" / "scenarios" / "cuba-1962.yaml").read_text(
    encoding="utf-8"
)


@pytest.fixture(scope="module")
def cuba() -> Scenario:
    return load_scenario("cuba-1962")


def ids(chs: list[Channel]) -> list[str]:
    return [c.id for c in chs]


# ---- who may use which channel ---------------------------------------------------------


def test_cuba_declares_its_four_channels_with_sources(cuba: Scenario) -> None:
    assert ids(list(channels(cuba))) == ["letters", "back_channel", "statements", "united_nations"]
    sources = {s.id for s in cuba.spec.sources}
    for c in channels(cuba):
        assert c.cite and all(x.source in sources and x.locator for x in c.cite), c.id
    assert [c.public for c in channels(cuba)] == [False, False, True, True]


def test_the_back_channel_joins_washington_and_moscow_only(cuba: Scenario) -> None:
    assert ids(channels_for(cuba, "usa", "ussr")) == [
        "letters",
        "back_channel",
        "statements",
        "united_nations",
    ]
    assert ids(channels_for(cuba, "ussr", "usa")) == ids(channels_for(cuba, "usa", "ussr"))
    assert "back_channel" not in ids(channels_for(cuba, "cuba", "usa"))
    assert "back_channel" not in ids(channels_for(cuba, "usa", "cuba"))
    # the NATO allies sit outside the Security Council
    assert ids(channels_for(cuba, "usa", "nato")) == ["letters", "statements"]
    assert ids(channels_for(cuba, "nato")) == ["letters", "statements"]
    with pytest.raises(
        LetterError,
        match="Castro cannot write to Kennedy by The back "
        "channel.*the channels between them: Private letters between the "
        "leaders, by embassy cable; Public statements",
    ):
        pick_channel(cuba, "cuba", "usa", name="back_channel")
    with pytest.raises(LetterError, match="'hotline' is not a channel"):
        pick_channel(cuba, "usa", "ussr", name="hotline")
    # without a name: the first channel of the kind, as letters went before
    assert pick_channel(cuba, "usa", "ussr").id == "letters"
    assert pick_channel(cuba, "usa", "ussr", public=True).id == "statements"


def test_1973_has_no_private_channel_between_egypt_and_israel() -> None:
    oct73 = load_scenario("october-1973")
    assert ids(channels_for(oct73, "usa", "ussr")) == [
        "cables",
        "hotline",
        "kissinger_dobrynin",
        "council",
    ]
    assert ids(channels_for(oct73, "egypt", "israel")) == ["council"]
    assert not can_write(oct73, "egypt", "israel") and can_write(
        oct73, "egypt", "israel", public=True
    )
    assert ids(channels_for(oct73, "usa", "israel")) == ["cables", "council"]
    assert not can_write(oct73, "ussr", "israel")


# ---- delays -----------------------------------------------------------------------------


def test_each_channel_has_its_own_delay(cuba: Scenario) -> None:
    slow = load_text(
        CUBA_TEXT.replace(
            "  - id: letter_delay_turns\n    description: Turns a "
            "leaders' letter takes from sending to being read "
            "(cabling, translation).\n    value: 1\n",
            "  - id: letter_delay_turns\n    description: Turns a "
            "leaders' letter takes from sending to being read "
            "(cabling, translation).\n    value: 3\n",
        )
    )
    assert delay_turns(cuba, channel="letters") == 1
    assert delay_turns(slow, channel="letters") == 3  # a parameter, so what-ifs reach it
    assert delay_turns(slow, channel="back_channel") == 1  # a number of its own
    assert delay_turns(slow) == 3 and delay_turns(slow, public=True) == 1
    start = slow.clock.first_of_phase("crisis") + 26  # Saturday 27 October, morning
    s = Session.new(
        slow,
        GameSetup(
            "cuba-1962",
            0,
            {"usa": "human", "ussr": "historical", "cuba": "historical"},
            start_turn=start,
        ),
    )
    s.play_turn(
        {"usa": "usa_wait"},
        [
            {"sender": "usa", "to": "ussr", "terms": [], "text": "By cable."},
            {
                "sender": "usa",
                "to": "ussr",
                "channel": "back_channel",
                "terms": [],
                "text": "By Bobby.",
            },
        ],
    )
    cable, back = s.letters[0], s.letters[1]
    assert (cable.channel, cable.arrives) == ("letters", start + 3)
    assert (back.channel, back.arrives) == ("back_channel", start + 1)


def test_the_delay_in_words(cuba: Scenario) -> None:
    crisis = cuba.clock.first_of_phase("crisis")
    saturday_am = crisis + 26
    assert cuba.clock.turns[saturday_am].label == "1962-10-27 am"
    assert (
        arrival_words(cuba, saturday_am, saturday_am + 1)
        == "arrives this evening (Saturday 27 October 1962, evening)"
    )
    assert (
        arrival_words(cuba, saturday_am + 1, saturday_am + 2)
        == "arrives the next morning (Sunday 28 October 1962, morning)"
    )
    assert (
        arrival_words(cuba, saturday_am, saturday_am + 6)
        == "arrives in 3 days (Tuesday 30 October 1962, morning)"
    )
    assert arrival_words(cuba, 0, 1) == "arrives the next week (week of Thursday 31 May 1962)"
    assert (
        arrival_words(cuba, len(cuba.clock) - 1, len(cuba.clock))
        == "arrives after the end of the crisis"
    )


# ---- what a letter reaches ---------------------------------------------------------------


def _at_black_saturday(cuba: Scenario) -> Session:
    start = cuba.clock.first_of_phase("crisis") + 26
    return Session.new(
        cuba,
        GameSetup(
            "cuba-1962",
            0,
            {"usa": "human", "ussr": "historical", "cuba": "historical"},
            start_turn=start,
        ),
    )


def test_a_public_letter_reaches_everyone_and_a_private_one_only_its_reader(cuba: Scenario) -> None:
    s = _at_black_saturday(cuba)
    s.play_turn(
        {"usa": "usa_wait"},
        [
            {
                "sender": "usa",
                "to": "ussr",
                "channel": "united_nations",
                "terms": [],
                "text": "Before the Council.",
            },
            {
                "sender": "usa",
                "to": "ussr",
                "channel": "back_channel",
                "terms": [],
                "text": "Between us.",
            },
        ],
    )
    un, back = s.letters[0], s.letters[1]
    assert un.public and un.delivered and not back.public and back.delivered
    for reader in ("ussr", "cuba", "un", "nato"):
        assert un in s.letters_for(reader), reader
    assert back in s.letters_for("ussr")
    assert back not in s.letters_for("cuba") and back not in s.letters_for("nato")
    castro = [n.text for n in s.news["cuba"]]
    assert any(f"letter {un.id} from United States" in t for t in castro)
    assert not any(f"letter {back.id} " in t for t in castro)
    # Moscow answers the back-channel letter by the back channel, privately
    reply = next(x for x in s.letters if x.reply_to == back.id)
    assert (reply.sender, reply.channel, reply.public) == ("ussr", "back_channel", False)
    # a channel the pair may not use is refused in words, before anything is played
    with pytest.raises(
        GameError, match="cannot be sent: Kennedy cannot write to Castro by The back channel"
    ):
        s.play_turn(
            {"usa": "usa_wait"},
            [{"sender": "usa", "to": "cuba", "channel": "back_channel", "text": "Hello."}],
        )


def test_a_saved_letter_without_a_channel_still_reads(cuba: Scenario) -> None:
    old = {
        "id": 1,
        "sender": "usa",
        "to": "ussr",
        "public": False,
        "terms": [],
        "text": "x",
        "turn": 3,
        "arrives": 4,
    }
    assert Letter.from_json(old).channel == ""
    s = _at_black_saturday(cuba)
    s.play_turn(
        {"usa": "usa_wait"},
        [{"sender": "usa", "to": "ussr", "public": True, "terms": [], "text": "Heard by all."}],
    )
    assert s.letters[0].channel == "statements" and s.letters[0].public


def test_a_moves_file_names_a_channel(cuba: Scenario) -> None:
    moves = parse_moves(
        yaml.safe_load(
            "- choose: usa_wait\n  letter: {to: ussr, channel: back_channel, ask: [withdrawal]}\n"
        ),
        cuba,
        "usa",
    )
    [draft] = moves[0].letters
    assert draft["channel"] == "back_channel" and draft["public"] is False
    with pytest.raises(
        MovesError, match="'cuba' is not a party usa can write to by the channel back_channel"
    ):
        parse_moves(
            yaml.safe_load("- choose: usa_wait\n  letter: {to: cuba, channel: back_channel}\n"),
            cuba,
            "usa",
        )
    with pytest.raises(MovesError, match="the channel united_nations is public"):
        parse_moves(
            yaml.safe_load(
                "- choose: usa_wait\n  letter: {to: ussr, channel: united_nations, private: true}\n"
            ),
            cuba,
            "usa",
        )
    with pytest.raises(MovesError, match="'telegraph' is not a channel"):
        parse_moves(
            yaml.safe_load("- choose: usa_wait\n  letter: {to: ussr, channel: telegraph}\n"),
            cuba,
            "usa",
        )


# ---- a file that names no channels -------------------------------------------------------


def test_a_file_without_channels_gets_the_two_default_channels() -> None:
    start = MINI_TEXT.index("  channels:\n")
    end = MINI_TEXT.index("  terms:\n", start)
    no_channels = load_text(MINI_TEXT[:start] + MINI_TEXT[end:])  # no error
    assert no_channels.spec.negotiation is not None
    assert no_channels.spec.negotiation.channels is None
    assert channels(no_channels) == DEFAULT_CHANNELS
    assert [
        (c.public, delay_turns(no_channels, channel=c), c.between) for c in DEFAULT_CHANNELS
    ] == [(False, 1, "all"), (True, 1, "all")]
    assert can_write(no_channels, "blue", "red") and can_write(
        no_channels, "red", "blue", public=True
    )
    start = MINI_TEXT.index("negotiation:\n")
    end = MINI_TEXT.index("\n", MINI_TEXT.index("  terms:\n    -", start) + 10) + 1
    no_section = load_text(MINI_TEXT[:start] + MINI_TEXT[end:])
    assert no_section.spec.negotiation is None and channels(no_section) == DEFAULT_CHANNELS
    s = Session.new(no_section, GameSetup("mini", 0, {"blue": "human", "red": "historical"}))
    s.play_turn(
        {"blue": no_section.default_action("blue").id},
        [{"sender": "blue", "to": "red", "terms": [], "text": "Talk?"}],
    )
    assert s.letters[0].channel == "letters" and s.letters[0].delivered


# ---- choosing by number or by name -------------------------------------------------------


PARTIES = [
    Item("ussr", "Soviet Union", ("Khrushchev", "Nikita Khrushchev", "ussr")),
    Item("cuba", "Cuba", ("Castro", "Fidel Castro", "cuba")),
    Item("un", "United Nations Secretary-General", ("U Thant", "un")),
]


@pytest.mark.parametrize(
    "typed", ["1", "Soviet Union", "soviet", "KHRUSHCHEV", "Krushchev", "ussr", " soviet union "]
)
def test_a_party_by_number_or_name(typed: str) -> None:
    assert choose(typed, PARTIES).value == "ussr"


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("", "Nothing typed. Type a number from 1 to 3"),
        ("4", "There is no choice 4. Type a number from 1 to 3"),
        (
            "moon",
            "'moon' is not one of the choices. Type a number from 1 to 3, or a name from "
            "the list (such as 'Cuba')",
        ),
        ("??", "'??' is not one of the choices"),
    ],
)
def test_a_bad_entry_says_what_is_allowed(typed: str, said: str) -> None:
    with pytest.raises(MenuError) as e:
        choose(typed, PARTIES)
    assert said in str(e.value)


def test_an_ambiguous_start_asks_for_more() -> None:
    items = [Item("a", "the missiles leave Cuba"), Item("b", "the Jupiter missiles leave Turkey")]
    with pytest.raises(MenuError, match="could be 1 .* or 2 .*Type its number"):
        choose("the", items)
    assert [i.value for i in choose_many("2, the missiles leave", items)] == ["b", "a"]
    assert [i.value for i in choose_many("1 2 1", items)] == ["a", "b"]


# ---- the terminal's letter prompts, in words --------------------------------------------


def test_the_terminal_writes_a_letter_by_choosing_words(cuba: Scenario) -> None:
    s = _at_black_saturday(cuba)
    typed = iter(
        [
            "letter",
            "the moon",
            "Krushchev",  # to whom
            "7",
            "back channel",  # by which channel
            "peace",
            "the missiles leave, a pledge not to invade",  # terms
            "The bases must go; the Jupiters will follow.",
            "yes",
            "quit",
        ]
    )
    prompts: list[str] = []

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        return next(typed)

    out = io.StringIO()
    t = Terminal(s, Console(file=out, width=120, color_system=None), clear=False, ask=ask)
    drafts: list[dict[str, Any]] = []
    assert t._command("usa", brief(s, "usa"), "letter", drafts) is None
    screen = " ".join(out.getvalue().split())
    # the choices in words, numbered; never an id
    assert "1. Soviet Union 2. Cuba 3. United Nations Secretary-General 4. NATO allies" in screen
    assert "2. The back channel, Robert Kennedy and Ambassador Dobrynin" in screen
    assert (
        "private, to Khrushchev only; arrives this evening (Saturday 27 October 1962, "
        "evening)" in screen
    )
    assert "1. the missiles leave Cuba" in screen and "back_channel" not in screen
    # each bad entry gets a line saying what is allowed, and the prompt again
    assert "'the moon' is not one of the choices. Type a number from 1 to 4" in screen
    assert "There is no choice 7. Type a number from 1 to 4" in screen
    assert "'peace' is not one of the choices" in screen
    assert [p.split(" (")[0] for p in prompts[1:7]] == [
        "To whom?",
        "To whom?",
        "By which channel?",
        "By which channel?",
        "Terms",
        "Terms",
    ]
    assert "Letter to Soviet Union, private, by: The back channel" in screen
    assert "Terms: the missiles leave Cuba; a pledge not to invade Cuba." in screen
    [draft] = drafts
    assert (draft["to"], draft["channel"], draft["terms"]) == (
        "ussr",
        "back_channel",
        ["withdrawal", "noninvasion"],
    )
    s.play_turn({"usa": "usa_wait"}, drafts)
    assert s.letters[0].channel == "back_channel" and s.letters[0].delivered


# ---- the web seat's letter form ------------------------------------------------------------


def _class_client(tmp_path: Path) -> Any:
    """A classroom server on a fresh SQLite file, with a fixed clock, as a test client."""
    pytest.importorskip("fastapi")
    import datetime as dt

    from fastapi.testclient import TestClient

    from crisislab.store import Store
    from crisislab.web.app import create_app
    from crisislab.web.classroom import Classroom
    from tests.web_support import load

    room = Classroom(
        Store(f"sqlite:///{tmp_path / 'class.db'}"),
        clock=lambda: dt.datetime(2026, 1, 1, 9, 0),
        load=load,
    )
    return TestClient(create_app(room=room))


def test_the_web_seat_offers_its_channels_in_words_and_refuses_others(tmp_path: Path) -> None:
    c = _class_client(tmp_path)
    r = c.post(
        "/api/sessions",
        json={
            "scenario": "cuba-1962",
            "worlds": 1,
            "start": "crisis",
            "debrief_runs": 20,
            "seats": {"usa": "human", "ussr": "human", "cuba": "human"},
        },
    )
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    tokens = {
        a: c.post(
            "/api/join", json={"code": code, "name": a.upper(), "world": 1, "seat": a}
        ).json()["token"]
        for a in ("usa", "ussr", "cuba")
    }

    def auth(actor: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[actor]}"}

    castro = c.get("/api/seat", headers=auth("cuba")).json()
    assert [x["id"] for x in castro["channels"]] == ["letters", "statements", "united_nations"]
    khrushchev = c.get("/api/seat", headers=auth("ussr")).json()
    back = next(x for x in khrushchev["channels"] if x["id"] == "back_channel")
    assert back["to"] == ["usa"] and back["public"] is False and back["delay_turns"] == 1
    assert (
        back["words"].startswith("The back channel, Robert Kennedy and Ambassador Dobrynin")
        and "to Kennedy only" in back["words"]
    )
    assert back["arrives"] == "arrives this evening (Sunday 14 October 1962, evening)"
    page = c.get(f"/play/{tokens['ussr']}").text
    assert '<select name="channel">' in page and "to Kennedy only; arrives this evening" in page
    r = c.post(
        "/api/seat/letters",
        headers=auth("ussr"),
        json={
            "to": "usa",
            "channel": "back_channel",
            "terms": ["noninvasion"],
            "text": "Through a friend of the Attorney General.",
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["channel"] == "back_channel" and r.json()["public"] is False
    r = c.post(
        "/api/seat/letters",
        headers=auth("cuba"),
        json={"to": "usa", "channel": "back_channel", "text": "Hello."},
    )
    assert r.status_code == 400
    assert "Castro cannot write to Kennedy by The back channel" in r.json()["error"]
    # the form posts the channel too; a public channel's letter is read by all
    r = c.post(
        f"/play/{tokens['cuba']}/letter",
        data={"to": "usa", "channel": "united_nations", "text": "Cuba will defend itself."},
    )
    assert r.status_code in (200, 303), r.text
    for actor in ("usa", "ussr", "cuba"):
        assert (
            c.post("/api/seat/choice", json={"action": "follow"}, headers=auth(actor)).status_code
            == 200
        )
    seen = {
        a: " ".join(
            str(x) for x in c.get("/api/seat", headers=auth(a)).json()["briefing"]["letters"]
        )
        for a in ("usa", "ussr", "cuba")
    }
    assert "Cuba will defend itself." in seen["ussr"] and "Cuba will defend" in seen["usa"]
    assert "Through a friend of the Attorney General." in seen["usa"]
    assert "Through a friend of the Attorney General." not in seen["cuba"]
    assert "The back channel" in seen["usa"]  # the letter names its channel


class _LetterForm(HTMLParser):
    """The recipients and the channels (with the recipients each names) of a seat's
    letter form."""

    def __init__(self) -> None:
        super().__init__()
        self.select: str | None = None
        self.recipients: list[str] = []
        self.channels: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "select":
            self.select = a.get("name")
        elif tag == "option" and self.select == "to":
            self.recipients.append(a["value"] or "")
        elif tag == "option" and self.select == "channel":
            self.channels[a["value"] or ""] = (a.get("data-to") or "").split()

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None

    def offered(self, to: str) -> list[str]:
        return [c for c, whom in self.channels.items() if to in whom]


def test_the_web_letter_form_offers_each_recipient_only_the_channels_of_the_pair(
    tmp_path: Path, cuba: Scenario
) -> None:
    c = _class_client(tmp_path)
    seats = ("usa", "ussr", "cuba")
    r = c.post(
        "/api/sessions",
        json={"scenario": "cuba-1962", "worlds": 1, "seats": dict.fromkeys(seats, "human")},
    )
    assert r.status_code == 201, r.text
    forms = {}
    for actor in seats:
        joined = c.post(
            "/api/join", json={"code": r.json()["code"], "name": "A", "world": 1, "seat": actor}
        )
        forms[actor] = _LetterForm()
        forms[actor].feed(c.get(f"/play/{joined.json()['token']}").text)

    # what the scenario declares: the back channel joins Washington and Moscow only, and
    # the NATO allies sit outside the Security Council
    everyone = ["letters", "statements", "united_nations"]
    assert {to: forms["ussr"].offered(to) for to in forms["ussr"].recipients} == {
        "usa": ["letters", "back_channel", "statements", "united_nations"],
        "cuba": everyone,
        "un": everyone,
        "nato": ["letters", "statements"],
    }
    assert forms["cuba"].offered("usa") == forms["cuba"].offered("ussr") == everyone
    # for every seat and recipient: offered exactly when the server takes the letter
    for actor, form in forms.items():
        assert form.recipients == [a for a in cuba.actors if a != actor]
        assert list(form.channels) == ids(channels_for(cuba, actor))
        for to in form.recipients:
            assert form.offered(to) == ids(channels_for(cuba, actor, to)), (actor, to)
            for name in form.channels:
                try:
                    pick_channel(cuba, actor, to, name=name)
                    taken = True
                except LetterError:
                    taken = False
                assert taken == (name in form.offered(to)), (actor, to, name)
