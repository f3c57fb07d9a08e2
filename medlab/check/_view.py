"""The trainee's progress: lessons in course order, exercises done / total."""

from __future__ import annotations

import html
from dataclasses import dataclass

from medlab import course
from medlab.check import _progress


@dataclass(frozen=True)
class LessonProgress:
    lesson: course.Lesson
    done: int
    total: int
    next_exercise: str | None


#: What the minutes left count: each lesson's time, for the share of its exercises not done.
LEFT_NOTE = "the lessons' times, for the exercises not yet done"


class Progress:
    """What is done, what remains, and the next exercise to do."""

    def __init__(self) -> None:
        from medlab.check import registry

        record = _progress.load()
        exercises = registry()
        self.rows: list[LessonProgress] = []
        for lesson in course.LESSONS:
            mine = [ex for ex in exercises.values() if ex.lesson == lesson.number]
            if not mine:
                continue
            done = [ex for ex in mine if record.get(ex.id, {}).get("outcome") == "correct"]
            todo = [ex.id for ex in mine if ex not in done]
            self.rows.append(
                LessonProgress(lesson, len(done), len(mine), todo[0] if todo else None)
            )
        self.next = next((row.next_exercise for row in self.rows if row.next_exercise), None)
        #: Each lesson's time (medlab.course) times the share of its exercises not yet done.
        self.minutes_left = sum(
            row.lesson.minutes * (row.total - row.done) // row.total for row in self.rows
        )

    def __repr__(self) -> str:
        lines = [f"{r.lesson.number}  {r.lesson.title:<52} {r.done}/{r.total}" for r in self.rows]
        lines.append(f"About {self.minutes_left} min of lessons left ({LEFT_NOTE}).")
        lines.append(f"Next: exercise {self.next}" if self.next else "All exercises done.")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{r.lesson.number}</td><td>{html.escape(r.lesson.title)}</td>"
            f"<td>{r.done}/{r.total}</td></tr>"
            for r in self.rows
        )
        nxt = f"Next: exercise {self.next}" if self.next else "All exercises done."
        return (
            f'<div class="medlab-progress"><table><thead><tr><th>#</th><th>Lesson</th>'
            f"<th>Done</th></tr></thead><tbody>{rows}</tbody></table>"
            f"<p>About {self.minutes_left} min of lessons left ({LEFT_NOTE}). {nxt}</p></div>"
        )


def progress() -> Progress:
    """Show the trainee's progress through the course's exercises."""
    return Progress()
