"""Find taxonomy skills in free text (a vacancy description), in Chinese and English.

Pure code: the caller passes the taxonomy as ``(skill_id, names, aliases)`` entries.

Matching rules
--------------
- Text and terms are NFKC-normalised (full-width ``ＳＰＣ`` becomes ``SPC``) and lower-cased.
- A term made of Latin letters/digits only matches as a whole word: ``SPC`` is found in
  ``有SPC经验`` but not in ``SPCX`` or ``aspc``. Chinese terms match anywhere.
- Longest match first: when two terms overlap in the text, the longer one wins and the shorter
  one is not reported (``倒装焊`` does not also yield a skill whose alias is ``焊``).
- A clause that says the skill is a plus (``优先``, ``加分``, ``preferred``, ``a plus``, ...) makes
  the skills found in it preferred rather than required.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

TaxonomyEntry = tuple[str, Sequence[str], Sequence[str]]

# Words that mark a clause as "nice to have".
PREFERENCE_MARKERS = ("优先", "加分", "更佳", "为佳", "preferred", "a plus", "nice to have", "bonus")
_CLAUSE_SPLIT = re.compile(r"[。；;！!？?\n\r，,、]+|\.(?:\s+|$)")
_ASCII_WORD = re.compile(r"[0-9a-z]")


def normalise(text: str) -> str:
    """NFKC then lower case; the form both text and terms are compared in."""
    return unicodedata.normalize("NFKC", text).lower()


@dataclass(frozen=True)
class _Term:
    text: str
    skill_id: str
    # Whether the term starts/ends with a Latin letter or digit and so needs a word boundary there.
    bound_left: bool
    bound_right: bool


class SkillExtractor:
    """Compiled taxonomy; :meth:`extract` returns skill ids in order of first mention.

    Parameters
    ----------
    taxonomy
        ``(skill_id, names, aliases)`` entries; names and aliases are all searched for.
    """

    def __init__(self, taxonomy: Iterable[TaxonomyEntry]) -> None:
        terms: dict[str, str] = {}
        for skill_id, names, aliases in taxonomy:
            for raw in (*names, *aliases):
                term = normalise(str(raw)).strip()
                # The first skill to claim a term keeps it, so the result does not depend on dict order.
                if term and term not in terms:
                    terms[term] = skill_id
        self._terms = sorted(
            (
                _Term(
                    text=term,
                    skill_id=skill_id,
                    bound_left=bool(_ASCII_WORD.match(term[0])),
                    bound_right=bool(_ASCII_WORD.match(term[-1])),
                )
                for term, skill_id in terms.items()
            ),
            key=lambda t: (-len(t.text), t.text),
        )

    def _spans(self, text: str) -> list[tuple[int, int, str]]:
        """Non-overlapping ``(start, end, skill_id)`` matches, longest first, in text order."""
        found: list[tuple[int, int, str]] = []
        taken = bytearray(len(text))
        for term in self._terms:  # longest terms first
            start = text.find(term.text)
            while start != -1:
                end = start + len(term.text)
                if self._bounded(text, start, end, term) and not any(taken[start:end]):
                    found.append((start, end, term.skill_id))
                    taken[start:end] = b"\x01" * (end - start)
                start = text.find(term.text, start + 1)
        found.sort()
        return found

    @staticmethod
    def _bounded(text: str, start: int, end: int, term: _Term) -> bool:
        if term.bound_left and start > 0 and _ASCII_WORD.match(text[start - 1]):
            return False
        return not (term.bound_right and end < len(text) and _ASCII_WORD.match(text[end]))

    def extract(self, text: str) -> list[str]:
        """Skill ids mentioned in ``text``, each once, in order of first mention."""
        return _unique(skill for _, _, skill in self._spans(normalise(text or "")))

    def extract_split(self, text: str) -> tuple[list[str], list[str]]:
        """``(required, preferred)``: skills in "nice to have" clauses are preferred.

        A skill mentioned both in a plain clause and a preference clause is required.
        """
        required: list[str] = []
        preferred: list[str] = []
        for clause in _CLAUSE_SPLIT.split(normalise(text or "")):
            skills = [skill for _, _, skill in self._spans(clause)]
            target = preferred if any(marker in clause for marker in PREFERENCE_MARKERS) else required
            target.extend(skills)
        required = _unique(required)
        kept = set(required)
        return required, [s for s in _unique(preferred) if s not in kept]


def extract_skills(text: str, taxonomy: Iterable[TaxonomyEntry]) -> list[str]:
    """Skill ids of ``taxonomy`` mentioned in ``text`` (see the module docstring for the rules).

    Examples
    --------
    >>> taxonomy = [("wire_bonding", ["引线键合", "wire bonding"], []),
    ...             ("flip_chip", ["倒装焊", "flip chip"], ["倒装"]),
    ...             ("spc", ["统计过程控制", "SPC"], [])]
    >>> extract_skills("熟悉引线键合和倒装焊工艺，有SPC经验", taxonomy)
    ['wire_bonding', 'flip_chip', 'spc']
    """
    return SkillExtractor(taxonomy).extract(text)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
