"""The terminal game: rich panels for the briefing, plain ``input()`` prompts.

Plain line prompts keep the game usable under screen readers, pipes, tmux and pexpect;
the screen is cleared between turns so that each turn reads as one page. Every prompt
checks its input and answers bad input with a message, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.segment import Segments
from rich.table import Table
from rich.text import Text

from crisislab.play.briefing import Briefing, Fact, brief
from crisislab.play.letters import (
    MAX_LETTERS_PER_TURN,
    MAX_TEXT,
    LetterError,
    arrival_words,
    channel_words,
    channels_for,
    clean_text,
    delay_turns,
    terms,
    transit_hours,
)
from crisislab.play.letters import terms as term_words
from crisislab.play.menu import Item, MenuError, choose, choose_many, listing
from crisislab.play.session import Session, _name, follow_choice
from crisislab.scenario.display import cite_words
from crisislab.scenario.model import Scenario

HELP = f"""\
[bold]At the prompt[/bold]
  [bold]N[/bold]            choose option N for this turn (the turn is then played)
  [bold]i N[/bold]          more on option N: what it does, when it is available, its sources
  [bold]letter[/bold]       write a letter: to whom, by which channel, with terms and text
  [bold]answer N[/bold]     answer letter N (accept, decline, or a plain reply)
  [bold]wait K[/bold]       do nothing in particular this turn and the next K-1 turns
  [bold]follow K[/bold]     do what the record shows your leader did (where it is silent, what
               the stand-in would do), this turn and K-1 more; not counted as decisions
  [bold]redraw[/bold]       show the briefing again
  [bold]help[/bold]         this help
  [bold]quit[/bold]         leave; the game is saved after every turn (resume with --resume)
Letters go by the crisis's channels ({{channels}}): each says whom it reaches,
whether it is private or public (read by every party) and how long a letter takes.
At each letter prompt type a number from the list or a name in words. Terms: {{terms}}.
Free text: at most {MAX_TEXT} characters. Type [bold]cancel[/bold] at any letter prompt to drop it.
Waiting and following stop when a letter arrives for you."""


ERASE_SCROLLBACK = "\x1b[3J"  # xterm's "erase saved lines" (ED 3)


class Quit(Exception):
    """The player asked to leave (or the input ended)."""


class Cancel(Exception):
    """The player dropped the letter being written."""


@dataclass
class Autopilot:
    mode: str  # "wait" or "follow"
    left: int
    letters: int  # letters this seat had received when it was set


@dataclass
class TurnInput:
    choice: str
    drafts: list[dict[str, Any]] = field(default_factory=list)
    followed: bool = False  # only followed the record: not a decision for the debrief


class Terminal:
    """Renders briefings and asks a person for one turn's choice and letters."""

    def __init__(
        self,
        session: Session,
        console: Console,
        clear: bool = True,
        ask: Callable[[str], str] = input,
    ) -> None:
        self.session = session
        self.console = console
        self.clear = clear
        self._ask = ask
        self.autopilot: dict[str, Autopilot] = {}
        # rendered parts of the briefing by what they show: most turns show the same
        # options and much of the same world as the turn before, and laying out rich's
        # tables costs far more than printing lines already laid out
        self._rendered: dict[tuple[Any, ...], Segments] = {}

    # ---- input -------------------------------------------------------------------------

    def read(self, prompt: str) -> str:
        """One line, checked: control characters and over-long lines are refused here."""
        while True:
            try:
                raw = self._ask(prompt)
            except EOFError:
                raise Quit("input ended") from None
            try:
                return clean_text(raw, 2000, "your input")
            except LetterError as e:
                self.say(f"[red]{e}[/red]")

    def say(self, markup: str) -> None:
        self.console.print(markup, highlight=False)

    # ---- a turn ------------------------------------------------------------------------

    def turn(self, actor: str) -> TurnInput:
        """Ask ``actor``'s player for this turn's choice (or take it from the autopilot)."""
        auto = self.autopilot.get(actor)
        if auto is not None and self._letters(actor) > auto.letters:
            self.say(f"[yellow]A letter has arrived: {auto.mode} stops.[/yellow]")
            del self.autopilot[actor]
            auto = None
        if auto is not None:
            choice = self._auto_choice(actor, auto.mode)
            auto.left -= 1
            if auto.left <= 0:
                del self.autopilot[actor]
            sc = self.session.scenario
            self.say(
                f"[dim]{self.session.date()}: {_name(sc, actor)} {auto.mode}s "
                f"({sc.action(choice).label})[/dim]"
            )
            return TurnInput(choice, followed=auto.mode == "follow")
        if len(self.session.humans) > 1:
            self._handover(actor)
        b = brief(self.session, actor)
        self.render(b)
        drafts: list[dict[str, Any]] = []
        while True:
            line = self.read(f"{actor}> ")
            picked = self._command(actor, b, line, drafts)
            if picked is not None:
                followed = line.split()[0].lower() in ("f", "follow") and not drafts
                return TurnInput(picked, drafts, followed=followed)

    def _handover(self, actor: str) -> None:
        """Hot seat: wipe the screen and the terminal's scrollback (always, --no-clear or
        not) before the keyboard passes, so no player scrolls back into another's
        briefing."""
        self.console.clear()
        self.console.file.write(ERASE_SCROLLBACK)
        self.console.file.flush()
        name = _name(self.session.scenario, actor)
        self.say(f"[bold]Pass the keyboard to the player of {name}.[/bold]")
        self.read(f"{actor}: press Enter when ready> ")

    def _letters(self, actor: str) -> int:
        return sum(n.kind == "letter" for n in self.session.news.get(actor, []))

    def _auto_choice(self, actor: str, mode: str) -> str:
        sc = self.session.scenario
        default = sc.default_action(actor).id
        if mode == "wait":
            return default
        return follow_choice(self.session, actor)

    def _command(
        self, actor: str, b: Briefing, line: str, drafts: list[dict[str, Any]]
    ) -> str | None:
        words = line.split()
        if not words:
            self.say(
                "[red]Nothing typed.[/red] Type an option number (1-"
                f"{len(b.options)}), or [bold]help[/bold]."
            )
            return None
        cmd, args = words[0].lower(), words[1:]
        if cmd.isdigit():
            return self._choose(b, cmd)
        if cmd in ("q", "quit", "exit"):
            raise Quit("quit")
        if cmd in ("h", "help", "?"):
            sc = self.session.scenario
            self.say(
                HELP.format(
                    terms=escape("; ".join(terms(sc).values()) or "none"),
                    channels=escape("; ".join(c.label for c in channels_for(sc, actor)) or "none"),
                )
            )
        elif cmd in ("r", "redraw"):
            self.render(brief(self.session, actor))
        elif cmd in ("i", "info"):
            self._info(b, args)
        elif cmd in ("l", "letter", "write"):
            self._letter(actor, drafts, reply_to=None)
        elif cmd in ("a", "answer", "reply"):
            self._answer(actor, args, drafts)
        elif cmd in ("w", "wait", "f", "follow"):
            mode = "wait" if cmd.startswith("w") else "follow"
            count = self._count(args)
            if count is None:
                return None
            choice = self._auto_choice(actor, mode)
            if count > 1:
                self.autopilot[actor] = Autopilot(mode, count - 1, self._letters(actor))
            return choice
        else:
            self.say(
                f"[red]Unknown command '{words[0]}'.[/red] Type an option number "
                f"(1-{len(b.options)}), or [bold]help[/bold]."
            )
        return None

    def _count(self, args: list[str]) -> int | None:
        if not args:
            return 1
        if not args[0].isdigit() or not 1 <= int(args[0]) <= 1000:
            self.say(f"[red]'{args[0]}' is not a number of turns[/red] (1 to 1000).")
            return None
        return int(args[0])

    def _choose(self, b: Briefing, text: str) -> str | None:
        n = int(text)
        if not 1 <= n <= len(b.options):
            self.say(f"[red]There is no option {n}.[/red] The options are 1 to {len(b.options)}.")
            return None
        option = b.options[n - 1]
        if not option.available:
            self.say(
                f"[red]Option {n} ({option.label}) is not available now:[/red] {option.reason}."
            )
            return None
        return option.id

    def _info(self, b: Briefing, args: list[str]) -> None:
        if not args or not args[0].isdigit() or not 1 <= int(args[0]) <= len(b.options):
            self.say(f"[red]Say which option:[/red] i N, with N from 1 to {len(b.options)}.")
            return
        o = b.options[int(args[0]) - 1]
        sc = self.session.scenario
        rule = sc.action(o.id)
        lines = [
            f"[bold]{o.number}. {o.label}[/bold]",
            o.summary,
            f"Escalation: {o.escalation}",
            "Available now." if o.available else f"[red]Not available now: {o.reason}.[/red]",
        ]
        lines += [f"Source: {cite_words(sc, c)}" for c in rule.cite]
        self.say(
            "\n".join(escape(x) if not x.startswith(("[bold]", "[red]")) else x for x in lines)
        )

    # ---- letters ----------------------------------------------------------------------

    def _letter(
        self,
        actor: str,
        drafts: list[dict[str, Any]],
        reply_to: int | None,
        to: str | None = None,
        stance: str = "",
        terms: list[str] | None = None,
        by: str = "",
    ) -> None:
        if len([d for d in drafts if d["sender"] == actor]) >= MAX_LETTERS_PER_TURN:
            self.say(
                f"[red]You have written {MAX_LETTERS_PER_TURN} letters this turn;[/red]"
                " that is the most a turn allows."
            )
            return
        sc = self.session.scenario
        t = self.session.turn
        try:
            if to is None:
                others = [a for a in sc.actors if a != actor and channels_for(sc, actor, a)]
                if not others:
                    self.say("[red]No channel of this crisis lets you write to anyone.[/red]")
                    return
                to = self._menu("To whom?", [_actor_item(sc, a) for a in others]).value
            usable = channels_for(sc, actor, to)
            if not usable:
                self.say(f"[red]No channel lets you write to {_name(sc, to)}.[/red]")
                return
            back = next((c for c in usable if c.id == by and not c.public), None)
            if back is not None:
                chosen = back
                self.say(escape(f"By the same channel: {channel_words(sc, chosen, actor, t)}."))
            elif len(usable) == 1:
                chosen = usable[0]
                self.say(
                    escape(
                        f"The only channel to {_name(sc, to)}: "
                        f"{channel_words(sc, chosen, actor, t)}."
                    )
                )
            else:
                picked = self._menu(
                    "By which channel?",
                    [Item(c.id, channel_words(sc, c, actor, t), (c.id, c.label)) for c in usable],
                ).value
                chosen = next(c for c in usable if c.id == picked)
            if terms is None:
                terms = self._terms()
            text = self._free_text()
            delay = delay_turns(sc, channel=chosen)
            hours = transit_hours(sc, t, t + delay)
            words = term_words(sc)
            kind = "public: every party reads it" if chosen.public else "private"
            self.say(
                escape(
                    f"Letter to {_name(sc, to)}, {kind}, by: {chosen.label}. Terms: "
                    f"{'; '.join(words.get(x, x) for x in terms) or 'none'}. It "
                    f"{arrival_words(sc, t, t + delay)} (about {hours} hours)."
                )
            )
            if self._pick("Send it? (yes, no) ", ["yes", "no"]) == "no":
                raise Cancel
        except Cancel:
            self.say("Letter dropped.")
            return
        drafts.append(
            {
                "sender": actor,
                "to": to,
                "public": chosen.public,
                "channel": chosen.id,
                "terms": terms,
                "text": text,
                "reply_to": reply_to,
                "stance": stance,
            }
        )
        self.say(
            "[green]Letter written;[/green] it goes when this turn is played. Now choose "
            "this turn's option."
        )

    def _answer(self, actor: str, args: list[str], drafts: list[dict[str, Any]]) -> None:
        readable = {x.id: x for x in self.session.letters_for(actor) if x.sender != actor}
        if not args or not args[0].isdigit() or int(args[0]) not in readable:
            ids = ", ".join(str(i) for i in readable) or "none yet"
            self.say(
                f"[red]Say which letter to answer:[/red] answer N; letters you have "
                f"received: {ids}."
            )
            return
        letter = readable[int(args[0])]
        try:
            stance = self._pick(
                "Accept, decline, or just reply? (accept, decline, reply) ",
                ["accept", "decline", "reply"],
            )
        except Cancel:
            self.say("Letter dropped.")
            return
        self._letter(
            actor,
            drafts,
            reply_to=letter.id,
            to=letter.sender,
            stance="" if stance == "reply" else stance,
            terms=list(letter.terms),
            by=letter.channel,
        )

    def _pick(self, prompt: str, choices: list[str]) -> str:
        while True:
            text = self.read(prompt).strip().lower()
            if text == "cancel":
                raise Cancel
            if not text:
                self.say(
                    f"[red]Nothing typed.[/red] Type one of: {', '.join(choices)} (or cancel)."
                )
                continue
            matches = [c for c in choices if c.startswith(text)]
            if text in choices:
                matches = [text]
            if len(matches) == 1:
                return matches[0]
            self.say(f"[red]'{text}' is not one of:[/red] {', '.join(choices)} (or cancel).")

    def _menu(self, question: str, items: list[Item]) -> Item:
        """Ask for one of ``items``, listed in words: a number or a name (see
        :mod:`crisislab.play.menu`); a bad entry is told what is allowed and asked again."""
        self.say(f"{question}\n{escape(listing(items))}")
        while True:
            text = self.read(f"{question} (a number or a name; or cancel) ")
            if text.strip().lower() == "cancel":
                raise Cancel
            try:
                return choose(text, items)
            except MenuError as e:
                self.say(f"[red]{escape(str(e))}[/red]")

    def _terms(self) -> list[str]:
        known = term_words(self.session.scenario)
        if not known:
            return []
        items = [Item(k, v, (k,)) for k, v in known.items()]
        self.say("Terms you may ask for or offer:\n" + escape(listing(items)))
        while True:
            text = self.read("Terms (numbers or names, several with commas; or none) ")
            if text.strip().lower() == "cancel":
                raise Cancel
            if not text.strip():
                self.say("[red]Nothing typed.[/red] Name terms, or type none.")
                continue
            if text.strip().lower() == "none":
                return []
            try:
                return [item.value for item in choose_many(text, items)]
            except MenuError as e:
                self.say(f"[red]{escape(str(e))}[/red] Several with commas, or none.")

    def _free_text(self) -> str:
        while True:
            raw = self.read(f"Text (at most {MAX_TEXT} characters; or none) ")
            if raw.strip().lower() == "cancel":
                raise Cancel
            if not raw.strip():
                self.say("[red]Nothing typed.[/red] Write the text, or type none.")
                continue
            if raw.strip().lower() == "none":
                return ""
            try:
                return clean_text(raw)
            except LetterError as e:
                self.say(f"[red]{e}[/red] Write it again, shorter.")

    # ---- output ------------------------------------------------------------------------

    def render(self, b: Briefing) -> None:
        c = self.console
        if self.clear:
            c.clear()
        leader = f" ({b.leader})" if b.leader else ""
        c.rule(f"[bold]{b.label}[/bold]  ·  {b.actor_name}{leader}  ·  {b.position}")
        c.print(Text(b.phase, style="dim"), justify="center")
        self._facts("Your forces and posture", b.own)
        if b.intelligence or b.confidential:
            self._facts("What your intelligence and channels show", b.intelligence + b.confidential)
        self._facts("The world as you see it", b.world)
        if b.quiet:
            c.print(
                Text(
                    "Not the case (as far as you know): "
                    + "; ".join(f.label for f in b.quiet)
                    + ".",
                    style="dim",
                )
            )
        news = Table.grid(padding=(0, 1))
        for n in b.latest:
            news.add_row(Text(n.kind, style="bold"), Text(n.text))
        if not b.latest:
            news.add_row(Text("Nothing new that you could see.", style="dim"))
        if b.earlier:
            news.add_row(
                Text("earlier", style="dim"),
                Text("; ".join(f"{n.label}: {n.text}" for n in b.earlier[-4:]), style="dim"),
            )
        c.print(Panel(news, title="Since last turn", title_align="left"))
        if b.letters or b.proposals:
            body = Table.grid(padding=(0, 1))
            for x in b.letters:
                body.add_row(Text(x.heading, style="bold"))
                if x.text:
                    body.add_row(Text("  " + x.text))
                body.add_row(Text("  " + x.status, style="dim"))
            if b.proposals:
                body.add_row(
                    Text("Proposals on the table: " + " | ".join(b.proposals), style="yellow")
                )
            c.print(Panel(body, title="Letters and statements", title_align="left"))
        if b.commitments:
            sc = self.session.scenario
            c.print(
                "Commitments (played on your next turns while available): "
                + ", ".join(sc.action(x).label for x in b.commitments),
                highlight=False,
            )
        self._print_laid_out(
            (
                "options",
                *(
                    (o.number, o.label, o.escalation, o.summary, o.source, o.available, o.reason)
                    for o in b.options
                ),
            ),
            lambda: _options(b),
        )
        c.print(
            "Type an option number, [bold]letter[/bold], [bold]answer N[/bold], "
            "[bold]i N[/bold], [bold]wait K[/bold], [bold]follow K[/bold], "
            "[bold]help[/bold] or [bold]quit[/bold].",
            highlight=False,
        )

    def _facts(self, title: str, facts: list[Fact]) -> None:
        self._print_laid_out(
            ("facts", title, *((f.label, f.value) for f in facts)), lambda: _facts(title, facts)
        )

    def _print_laid_out(self, key: tuple[Any, ...], build: Callable[[], Any]) -> None:
        """Print what ``build`` makes, laid out once per ``key`` (what it shows) and
        console width: the same lines as printing it afresh (a test compares)."""
        c = self.console
        key = (c.width, *key)
        lines = self._rendered.get(key)
        if lines is None:
            if len(self._rendered) >= 64:
                self._rendered.clear()
            lines = Segments(list(c.render(build(), c.options)))
            self._rendered[key] = lines
        c.print(lines)


def _actor_item(sc: Scenario, actor: str) -> Item:
    """An actor as a menu item: its name, and the other names it goes by."""
    a = next(x for x in sc.spec.actors if x.id == actor)
    return Item(actor, a.name, tuple(n for n in (a.short_name, a.leader, a.id) if n))


def _options(b: Briefing) -> Table:
    table = Table(title="Your options", title_justify="left", expand=True)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("option", ratio=2)
    table.add_column("escalation", ratio=1)
    table.add_column("what it does / why not", ratio=4)
    table.add_column("source", ratio=2)
    for o in b.options:
        if o.available:
            table.add_row(
                str(o.number),
                Text(o.label, style="bold"),
                o.escalation,
                o.summary,
                Text(o.source, style="dim"),
            )
        else:
            table.add_row(
                Text(str(o.number), style="dim"),
                Text(o.label, style="dim"),
                Text(o.escalation, style="dim"),
                Text(f"unavailable: {o.reason}", style="dim"),
                "",
            )
    return table


def _facts(title: str, facts: list[Fact]) -> Panel:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(ratio=3)
    grid.add_column(ratio=1)
    for f in facts:
        grid.add_row(f.label, Text(f.value, style="bold"))
    if not facts:
        grid.add_row(Text("nothing to report", style="dim"))
    return Panel(grid, title=title, title_align="left")


def play_loop(session: Session, terminal: Terminal, save: Callable[[Session], None]) -> bool:
    """Play turns until the crisis ends (True) or the player quits (False). ``save`` is
    called after every turn."""
    while not session.done:
        inputs: dict[str, TurnInput] = {}
        for actor in session.humans:
            inputs[actor] = terminal.turn(actor)
        drafts = [d for i in inputs.values() for d in i.drafts]
        session.play_turn(
            {a: i.choice for a, i in inputs.items()},
            drafts,
            followed=[a for a, i in inputs.items() if i.followed],
        )
        save(session)
    return True
