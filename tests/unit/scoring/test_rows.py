"""ScoreTable.rows (every node's record, rounded: what the app stores) against the straightforward
computation it replaced: one record per node, Python's round, step 7 as written in scoring.md.
Values must be identical, type and sign of zero included."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.scoring import benchmark_inputs
from app.scoring import SCORE_FIELDS, Consequence, Statut, prepare_tree, score_referentiel
from app.scoring.engine import _RoundingCache
from tests.unit.scoring.helpers import SMALL_TREE, consequence, score
from tests.unit.scoring.test_properties import STATUT_VALUES, trees


def straightforward_rows(table) -> dict[str, tuple]:
    tree, c = table.tree, table.columns

    def rounded(value):
        return round(value, 3) if value else value

    rows = {}
    for i, action_id in enumerate(tree.ids):
        parent = tree.parent[i]
        parent_concerne = parent < 0 or c.concerne[parent]
        rows[action_id] = (
            rounded(tree.points[i]), rounded(c.fait[i]), rounded(c.programme[i]), rounded(c.pas_fait[i]),
            rounded(c.non_renseigne[i]), rounded(c.potentiel[i]), c.concerne[i], c.total[i], c.completed[i],
            float(c.fait_avancement[i]), float(c.programme_avancement[i]), float(c.pas_fait_avancement[i]),
            float(c.pas_concerne_avancement[i]), c.desactive[i], rounded(c.potentiel_perso[i]),
            not (not c.desactive[i] and c.concerne[i] and parent_concerne and c.non_renseigne[i] > 0.0),
        )
    return rows


def exactly(row) -> list[tuple[str, type, str]]:
    """What identical means here: 0.0 == -0.0 and 1 == 1.0, but their reprs or types differ."""
    return [(name, type(value), repr(value)) for name, value in zip(SCORE_FIELDS, row)]


def assert_identical(rows: dict, expected: dict) -> None:
    assert list(rows) == list(expected)  # every node, deepest first
    for action_id, row in rows.items():
        assert exactly(row) == exactly(expected[action_id]), action_id


@pytest.fixture(scope="module")
def benchmark(shared_dir):
    return benchmark_inputs(shared_dir / "benchmark")


@pytest.mark.parametrize("ref", ["cae", "eci"])
@pytest.mark.parametrize("kept", ["statuts and consequences", "consequences", "statuts", "nothing"])
def test_rows_of_the_benchmark_collectivite_match_node_by_node(benchmark, ref, kept):
    tree, statuts, consequences = benchmark[ref]
    table = score_referentiel(tree, statuts if "statuts" in kept else [], consequences if "consequences" in kept else {})
    expected = straightforward_rows(table)
    assert_identical(table.rows(), expected)
    assert_identical(table.rows(), expected)  # again: nothing cached changes the answer
    assert_identical({record.action_id: tuple(getattr(record, f) for f in SCORE_FIELDS) for record in table.records()},
                     expected)


def test_unchanged_rows_are_shared_with_the_plain_table(benchmark):
    """Rows equal to those of the tree without statut or consequence are not built again."""
    tree, statuts, consequences = benchmark["cae"]
    plain = score_referentiel(tree, [], {}).rows()
    rows = score_referentiel(tree, statuts, consequences).rows()
    shared = [action_id for action_id, row in rows.items() if row is plain[action_id]]
    assert len(shared) > tree.size // 2
    assert all(rows[action_id] == plain[action_id] for action_id in shared)


@pytest.mark.parametrize("table", [
    # eci_2.0 has 0 point: -0.0 once personalised.
    pytest.param(lambda: score(consequences={"eci_2": consequence(potentiel_perso=-0.5)}), id="negative factor"),
    # eci_2 resized by a negative ratio: its 0-point eci_2.0 gets -0.0, outside the personalised subtree.
    pytest.param(lambda: score(consequences={"eci_2.1": consequence(potentiel_perso=-10)}),
                 id="negative factor spread by resizing"),
    # score(eci_1.2) - 2 < 0: the zero fait of the quiet tâches eci_1.2.2 and eci_1.2.3 turns into -0.0.
    pytest.param(lambda: score({"eci_1.2.1": "fait"}, {"eci_1.2": consequence(score_formule="score(eci_1.2) - 2")}),
                 id="negative formula"),
    # A negative point in the tree: -0.0 in the plain table, 0.0 once a sibling is non concerné.
    pytest.param(lambda: score({"eci_2.2.2": "non_concerne"}, level=0, spec={**SMALL_TREE, "eci_2.2.1": (-20, [])}),
                 id="negative points"),
])
def test_zeros_keep_their_sign(table):
    """A 0.0 and a -0.0 compare equal: a row must not be taken from the plain table for that."""
    table = table()
    rows, plain = table.rows(), score_referentiel(table.tree, [], {}).rows()
    assert any(value == plain_value and repr(value) != repr(plain_value)
               for action_id, row in rows.items() for value, plain_value in zip(row, plain[action_id]))
    assert_identical(rows, straightforward_rows(table))


FACTORS = st.sampled_from([None, 0, 0.5, 1.5, -0.5, -0.0, 1])
FRACTIONS_WITH_INTS = st.sampled_from([(1, 0, 0), (0, 1, 0), (0.0, -0.0, 1.0), (-0.25, 0.5, 0.75)])


@st.composite
def varied_scenarios(draw):
    """Random trees with odd inputs too: negative points, factors and fractions (signed zeros),
    integer fractions, score formulas."""
    children, points, level = draw(trees())
    ids = sorted(children)
    if draw(st.booleans()):
        negated = draw(st.sampled_from(ids))
        points[negated] = -points[negated]
    tree = prepare_tree(children, points, level)
    statuts = []
    for action_id in draw(st.lists(st.sampled_from(ids), unique=True)):
        avancement, concerne = draw(st.one_of(STATUT_VALUES, FRACTIONS_WITH_INTS.map(lambda f: (f, True))))
        statuts.append(Statut(action_id, avancement, concerne))
    consequences = {}
    for action_id in sorted(draw(st.lists(st.sampled_from(ids), unique=True, max_size=4))):
        other = draw(st.sampled_from(ids))
        formula = draw(st.sampled_from([None, f"min(score({other}), 0.5)", f"score({other}) - 2"]))
        consequences[action_id] = Consequence(draw(st.sampled_from([None, False, True])), draw(FACTORS), formula)
    return tree, statuts, consequences


@settings(max_examples=500, deadline=None)
@given(varied_scenarios())
def test_rows_match_the_straightforward_computation(case):
    table = score_referentiel(*case)
    expected = straightforward_rows(table)
    assert_identical(table.rows(), expected)
    for action_id in table:
        assert exactly(tuple(getattr(table[action_id], f) for f in SCORE_FIELDS)) == exactly(expected[action_id])


def test_the_rounding_cache_stays_bounded(monkeypatch):
    monkeypatch.setattr(_RoundingCache, "MAX_SIZE", 4)
    cache = _RoundingCache()
    assert [cache[v] for v in (0.0625, 1.0005, 0.1875, 2.5, 0.3125, 0.0625)] == [0.062, 1.0, 0.188, 2.5, 0.312, 0.062]
    assert len(cache) <= 4
