"""Author-year citations and bibliography for sphinxcontrib-bibtex, loaded from ``_config.yml``
(``sphinx.local_extensions``).

* ``author_year_round`` (``bibtex_reference_style``): citations in the text read (Lake et al., 2015) with
  ``{cite:p}`` and Lake et al. (2015) with ``{cite:t}``.
* ``authoryear`` (``bibtex_default_style``, a pybtex style): bibliography entries are labelled
  [Lake et al., 2015] and read "Lake, B. M., Salakhutdinov, R., and Tenenbaum, J. B. (2015). Title. *Journal*,
  350(6266):1332–1338. doi:...", sorted by author, year and title.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field

import sphinxcontrib.bibtex.plugin
from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting import toplevel
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.formatting.unsrt import pages
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.template import field, first_of, join, optional, optional_field, sentence, tag, words
from sphinxcontrib.bibtex.style.referencing import BracketStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle


def _last_name(person) -> str:
    return Text.from_latex(" ".join(person.prelast_names + person.last_names)).render_as("text")


class AuthorYearLabelStyle(BaseLabelStyle):
    """Labels such as "Lake et al., 2015", "Pan and Yang, 2010", "Caruana, 1997" (a, b, ... when two coincide)."""

    def format_labels(self, sorted_entries):
        labels = [self.format_label(entry) for entry in sorted_entries]
        counts = {label: labels.count(label) for label in labels}
        seen: dict[str, int] = {}
        for label in labels:
            if counts[label] > 1:
                seen[label] = seen.get(label, 0) + 1
                yield label + "abcdefghijklmnopqrstuvwxyz"[seen[label] - 1]
            else:
                yield label

    def format_label(self, entry) -> str:
        persons = entry.persons.get("author") or entry.persons.get("editor") or []
        names = [_last_name(p) for p in persons]
        if not names:
            who = entry.key
        elif len(names) == 1:
            who = names[0]
        elif len(names) == 2:
            who = f"{names[0]} and {names[1]}"
        else:
            who = f"{names[0]} et al."
        return f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearStyle(UnsrtStyle):
    default_label_style = AuthorYearLabelStyle
    default_name_style = "lastfirst"
    default_sorting_style = "author_year_title"

    def __init__(self, **kwargs):
        kwargs.setdefault("abbreviate_names", True)
        super().__init__(**kwargs)

    def format_head(self, e):
        """'Authors (year).', or 'Editors, editors (year).' for an edited book."""
        who = first_of[
            optional[self.format_names("author", as_sentence=False)],
            self.format_editor(e, as_sentence=False),
        ]
        return sentence[join(sep=" ")[who, join["(", field("year"), ")"]]]

    def get_article_template(self, e):
        volume_and_pages = first_of[
            optional[join[field("volume"), optional["(", field("number"), ")"], ":", pages]],
            optional[words["pages", pages]],
        ]
        return toplevel[
            self.format_head(e),
            self.format_title(e, "title"),
            sentence[tag("em")[field("journal")], optional[volume_and_pages]],
            sentence[optional_field("note")],
            self.format_web_refs(e),
        ]

    def get_inproceedings_template(self, e):
        return toplevel[
            self.format_head(e),
            self.format_title(e, "title"),
            words["In", sentence[tag("em")[field("booktitle")], optional[pages]]],
            sentence[optional_field("note")],
            self.format_web_refs(e),
        ]

    def get_book_template(self, e):
        return toplevel[
            self.format_head(e),
            self.format_btitle(e, "title"),
            sentence[field("publisher"), optional_field("address")],
            sentence[optional_field("note")],
            self.format_web_refs(e),
        ]

    def get_misc_template(self, e):
        return toplevel[
            self.format_head(e),
            optional[self.format_title(e, "title")],
            sentence[optional[field("howpublished")]],
            sentence[optional_field("note")],
            self.format_web_refs(e),
        ]

    def get_phdthesis_template(self, e):
        return toplevel[
            self.format_head(e),
            self.format_btitle(e, "title"),
            sentence[first_of[optional_field("type"), "Thesis"], field("school"), optional_field("address")],
            sentence[optional_field("note")],
            self.format_web_refs(e),
        ]

    get_mastersthesis_template = get_phdthesis_template


def _round() -> BracketStyle:
    return BracketStyle(left="(", right=")")


@dataclass
class RoundAuthorYearReferenceStyle(AuthorYearReferenceStyle):
    """sphinxcontrib-bibtex's author-year citations with round brackets: (Lake et al., 2015), Lake et al. (2015)."""

    bracket_parenthetical: BracketStyle = dataclass_field(default_factory=_round)
    bracket_textual: BracketStyle = dataclass_field(default_factory=_round)
    bracket_author: BracketStyle = dataclass_field(default_factory=_round)
    bracket_label: BracketStyle = dataclass_field(default_factory=_round)
    bracket_year: BracketStyle = dataclass_field(default_factory=_round)


def setup(app):
    register_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle)
    sphinxcontrib.bibtex.plugin.register_plugin(
        "sphinxcontrib.bibtex.style.referencing", "author_year_round", RoundAuthorYearReferenceStyle
    )
    return {"parallel_read_safe": True, "parallel_write_safe": True}
