"""The real ``crisislab play`` program, driven through a pseudo-terminal with pexpect."""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import pexpect

from crisislab.scenario.loader import load_scenario

MINI = Path(__file__).parent / "data" / "mini.yaml"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r")
EXE = shutil.which("crisislab") or f"{sys.executable} -m crisislab.cli"


class Player:
    """A person at the keyboard: sends lines, reads the screen since the last prompt."""

    def __init__(self, args: str, db: Path) -> None:
        env = {**os.environ, "CRISISLAB_DB": str(db), "NO_COLOR": "1", "TERM": "xterm"}
        self.child = pexpect.spawn(
            f"{EXE} {args}", env=env, encoding="utf-8", timeout=60, dimensions=(50, 160)
        )
        self.screen = ""

    def expect(self, pattern: str) -> str:
        self.child.expect(pattern)
        self.screen = ANSI.sub("", (self.child.before or "") + str(self.child.after or ""))
        return self.screen

    def send(self, line: str, then: str) -> str:
        self.child.sendline(line)
        return self.expect(then)

    def finish(self) -> str:
        self.child.expect(pexpect.EOF)
        rest = ANSI.sub("", self.child.before or "")
        self.child.close()
        assert self.child.exitstatus == 0, rest
        return rest


def test_a_whole_game_in_the_terminal(tmp_path: Path) -> None:
    db = tmp_path / "games.db"
    p = Player(f"play {MINI} --as blue --seed 0 --chance history --no-clear --debrief-runs 100", db)
    p.expect(r"Game (\d+) started")
    game = re.search(r"Game (\d+) started", p.screen).group(1)  # type: ignore[union-attr]
    screen = p.expect("blue> ")
    assert "Monday 1 October 1962" in screen and "Your options" in screen
    assert "Weapons deployed in secret" not in screen  # blue has not found them yet
    # bad input at the turn prompt
    assert "Nothing typed" in p.send("", "blue> ")
    assert "Unknown command 'launch'" in p.send("launch", "blue> ")
    assert "There is no option 99" in p.send("99", "blue> ")
    assert "not available now: needs detected" in p.send("2", "blue> ")
    assert "control characters" in p.send("1\x01\x02", "blue> ")
    assert "not a number of turns" in p.send("wait soon", "blue> ")
    assert "Say which option" in p.send("i", "blue> ")
    assert "Blue blockades" in p.send("i 2", "blue> ")
    # a letter, with bad input at each of its prompts
    p.send("letter", r"To whom\? \(.*")
    assert "Nothing typed" in p.send("", r"To whom\? \(.*")
    assert "not one of the choices" in p.send("moon", r"To whom\? \(.*")
    p.send("red", r"By which channel\? \(.*")
    assert "not one of the choices" in p.send("secretly", r"By which channel\? \(.*")
    p.send("private", r"Terms \(.*")
    assert "not one of the choices" in p.send("peace", r"Terms \(.*")
    assert "control characters" in p.send("withdrawal\x1b[A", r"Terms \(.*")
    p.send("withdrawal", r"Text .*")
    assert "the limit is 600" in p.send("x" * 700, r"Text .*")
    screen = p.send("Take them home.", r"Send it\?.*")
    assert "It arrives in 2 days (Wednesday 3 October 1962, morning) (about 48 hours)" in " ".join(
        screen.split()
    )
    assert "Letter written" in p.send("yes", "blue> ")
    screen = p.send("1", "blue> ")  # 1 October: wait
    assert "Tuesday 2 October 1962" in screen and "in transit" in screen
    flat = " ".join(screen.replace("│", " ").split())
    assert "due Wednesday 3 October, morning (about 48 hours)" in flat
    screen = p.send("1", "blue> ")  # 2 October: wait; the weapons are found that day
    assert "delivered Wednesday 3 October, morning" in " ".join(screen.replace("│", " ").split())
    assert "Weapons deployed in secret" in screen and "Discovery" in screen
    p.send("2", "blue> ")  # 3 October am: the blockade, as on the record
    screen = p.send("quit", "Resume with")
    assert f"crisislab play --resume {game}" in p.finish() + screen
    # resume: the saved choices are replayed through the engine
    p = Player(f"play --resume {game} --no-clear --debrief-runs 100", db)
    assert "Resuming game" in p.expect("blue> ")
    assert "at 3 October 1962, evening" in p.screen
    screen = p.send("follow 20", "blue> ")  # stops when red's answer arrives
    assert "A letter has arrived" in screen
    assert "Letter 2 (private letter) from Red to Blue, answering letter 1" in screen
    assert "DECLINES" in screen
    assert "Say which letter" in p.send("answer 7", "blue> ")
    p.send("answer 2", r"Accept, decline.*")
    assert "Nothing typed" in p.send("", r"Accept, decline.*")
    p.send("reply", r"By the same channel.*Text .*")
    p.send("Noted.", r"Send it\?.*")
    p.send("yes", "blue> ")
    for _ in range(10):  # following stops whenever a letter arrives
        if "The crisis is over" in p.send("follow 20", r"blue> |The crisis is over"):
            break
    rest = p.finish()
    assert "Debrief" in rest and "No divergence" in rest
    # the debrief again, as HTML, and the list of games
    out = tmp_path / "debrief.html"
    p = Player(f"debrief {game} --runs 50 --html {out}", db)
    assert "No divergence" in p.finish()
    page = out.read_text(encoding="utf-8")
    assert "<svg" in page and "never left the record" in page
    p = Player("games", db)
    listing = p.finish()
    assert re.search(rf"{game}\s.*mini.*finished.*deal", listing)


def test_bad_command_lines_get_clear_messages(tmp_path: Path) -> None:
    db = tmp_path / "games.db"
    for args, message in [
        (f"play {MINI} --as green", "not a seat a person can take"),
        (f"play {MINI}", "say which seat you take"),
        ("play --resume 42", "there is no game 42"),
        ("debrief 42", "there is no game 42"),
        (f"play {MINI} --as blue --agent red=genius", "unknown agent 'genius'"),
        (f"play {MINI} --as blue --agent blue=random", "both a person and an agent"),
        (f"play {MINI} --as blue --from nowhere", "no phase 'nowhere'"),
    ]:
        child = pexpect.spawn(
            f"{EXE} {args}",
            env={**os.environ, "CRISISLAB_DB": str(db), "NO_COLOR": "1"},
            encoding="utf-8",
            timeout=60,
            dimensions=(50, 200),
        )
        child.expect(pexpect.EOF)
        text = ANSI.sub("", child.before or "")
        child.close()
        assert message in " ".join(text.split()), (args, text)
        assert child.exitstatus == 2 and "Traceback" not in text


CUBA = load_scenario("cuba-1962")


def test_playing_the_united_states_in_cuba_1962(tmp_path: Path) -> None:
    hidden = [
        v
        for v in CUBA.variables
        if v.observers.get("usa") not in (None, True, False) and not v.derived
    ]
    assert any(v.id == "missiles_in_cuba" for v in hidden)
    from crisislab.play.briefing import label_of

    labels = [label_of(v, CUBA) for v in hidden if v.id == "missiles_in_cuba"]
    db = tmp_path / "games.db"
    p = Player("play cuba-1962 --as usa --seed 0 --chance history --no-clear --debrief-runs 30", db)
    p.expect(r"Game (\d+) started")
    game = re.search(r"Game (\d+) started", p.screen).group(1)  # type: ignore[union-attr]
    screen = p.expect("usa> ")
    assert "week of Thursday 24 May 1962" in screen
    assert not any(label in screen for label in labels)
    p.send("letter", r"To whom\? \(.*")
    p.send("Khrushchev", r"By which channel\? \(.*")
    p.send("private letters", r"Terms \(.*")
    p.send("a pledge not to invade", r"Text .*")
    screen = p.send("We are watching Cuba closely.", r"Send it\?.*")
    due = re.search(
        r"It arrives the next week \(week of Thursday 31 May 1962\) "
        r"\(about (\d+) hours\)",
        " ".join(screen.split()),
    )
    assert due, screen
    p.send("yes", "usa> ")
    screen = p.send("follow 1", "usa> ")  # the next turn: the letter is on its way
    assert "in transit" in screen or "delivered" in screen
    # quit mid-game, and resume: the saved choices are replayed through the engine
    assert f"crisislab play --resume {game}" in p.send("quit", "Resume with") + p.finish()
    p = Player(f"play --resume {game} --no-clear --debrief-runs 30", db)
    assert "Resuming game" in p.expect("usa> ")
    seen_after = delivered = answered = False
    for _ in range(60):
        screen = p.send("follow 10", r"usa> |The crisis is over")
        flat = " ".join(screen.replace("│", " ").split())
        delivered = delivered or "delivered" in flat
        answered = answered or "answering letter 1" in flat
        if "The crisis is over" in screen:
            break
        if re.search(r"\b2\d October 1962", screen) and any(lbl in screen for lbl in labels):
            seen_after = True
    assert delivered, "the letter was never shown as delivered"
    assert answered, "the Soviet answer to the letter never arrived"
    assert seen_after, "the missiles never appeared in the US briefing after discovery"
    rest = p.finish()
    assert "Debrief" in rest


def test_hot_seat_each_player_sees_only_their_own_briefing(tmp_path: Path) -> None:
    """Two people at one keyboard: the program asks for the keyboard to be passed before
    each seat's turn, and each briefing shows that seat's view only (Red's secret
    deployment stays out of Blue's), also after a quit and a resume."""
    db = tmp_path / "games.db"
    p = Player(
        f"play {MINI} --as blue --as red --seed 0 --chance history --no-clear --debrief-runs 50", db
    )
    assert "you play blue, red" in p.expect(r"blue: press Enter when ready> ")
    assert "Pass the keyboard to the player of Blue" in p.screen
    screen = p.send("", "blue> ")
    assert "Blockade" in screen and "Deploy" not in screen  # Blue's options only
    assert "Blue has found the deployment" in screen  # listed as not the case
    screen = p.send("1", r"red: press Enter when ready> ")
    assert "Pass the keyboard to the player of Red" in screen
    screen = p.send("", "red> ")
    assert "Deploy" in screen and "Blockade" not in screen  # Red's options only
    # nothing shipped yet, said in words (a table may wrap the reason)
    flat = " ".join(screen.replace("│", " ").split())
    assert "unavailable: needs deployed" in flat and "deployed > 0" not in flat
    screen = p.send("2", r"blue: press Enter when ready> ")  # Red ships weapons in secret
    screen = p.send("", "blue> ")
    assert "Tuesday 2 October 1962" in screen and "Nothing new that you could see" in screen
    assert "Red ships" not in screen
    screen = p.send("1", r"red: press Enter when ready> ")
    screen = p.send("", "red> ")
    assert "Tuesday 2 October 1962" in screen and "Red ships more weapons" in screen
    # Red's offer is open now
    assert "unavailable: needs deployed" not in " ".join(screen.replace("│", " ").split())
    game = re.search(r"Game (\d+)", p.send("quit", "Resume with")).group(1)  # type: ignore[union-attr]
    p.finish()
    # a resumed hot-seat game goes on with the same seats, keyboard passing and all, at
    # the start of the unfinished turn (a turn is saved once every seat has chosen)
    p = Player(f"play --resume {game} --no-clear --debrief-runs 50", db)
    assert "Resuming game" in p.expect(r"blue: press Enter when ready> ")
    screen = p.send("", "blue> ")
    assert "Tuesday 2 October 1962" in screen and "Blockade" in screen and "Red ships" not in screen
    screen = p.send("1", r"red: press Enter when ready> ")
    assert "Red ships more weapons" in p.send("", "red> ")
    p.send("quit", "Resume with")
    p.finish()
