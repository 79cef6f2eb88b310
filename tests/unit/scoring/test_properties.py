"""Invariants of the engine on random trees, statuts and consequences (hypothesis)."""
from hypothesis import given, settings
from hypothesis import strategies as st

from app.scoring import SCORE_FIELDS, Consequence, Statut, prepare_tree, score_referentiel

POINTS = st.sampled_from([0.0, 0.25, 1.0, 2.5, 3.0, 10.0, 1 / 3, 0.1])
ROUNDING = 0.0005  # each rounded field is within this of its exact value
POINT_FIELDS = ("point_fait", "point_programme", "point_pas_fait", "point_non_renseigne")


@st.composite
def trees(draw):
    """(children, points, level) with every parent worth the left-to-right sum of its children."""
    children, points = {}, {}

    def grow(node: str, depth: int) -> float:
        count = draw(st.integers(0, 3)) if depth < 4 else 0
        if depth == 0:
            count = max(count, 1)
        separator = "_" if depth == 0 else "."
        kids = [f"{node}{separator}{i}" for i in range(1, count + 1)]
        children[node] = kids
        total = 0
        for kid in kids:
            total += grow(kid, depth + 1)
        points[node] = draw(POINTS) if not kids else total
        return points[node]

    grow("r", 0)
    depth = max(node.count("_") + node.count(".") for node in children)
    return children, points, draw(st.integers(0, depth))


FRACTIONS = st.tuples(st.integers(0, 4), st.integers(0, 4), st.integers(0, 4)).filter(lambda t: sum(t) <= 4).map(
    lambda t: tuple(x / 4 for x in t)
)
STATUT_VALUES = st.one_of(
    st.sampled_from([((1.0, 0.0, 0.0), True), ((0.0, 1.0, 0.0), True), ((0.0, 0.0, 1.0), True),
                     (None, False), (None, True)]),
    FRACTIONS.map(lambda fractions: (fractions, True)),
)


@st.composite
def scenarios(draw, with_statuts=True, with_consequences=True):
    children, points, level = draw(trees())
    ids = sorted(children)
    tree = prepare_tree(children, points, level)
    statuts = []
    if with_statuts:
        for action_id in draw(st.lists(st.sampled_from(ids), unique=True)):
            avancement, concerne = draw(STATUT_VALUES)
            statuts.append(Statut(action_id, avancement, concerne))
    consequences = {}
    if with_consequences:
        for action_id in sorted(draw(st.lists(st.sampled_from(ids), unique=True, max_size=3))):
            consequences[action_id] = Consequence(
                draw(st.sampled_from([None, False, True])), draw(st.sampled_from([None, 0, 0.5, 1.5])), None
            )
    return tree, statuts, consequences


def descendants(children: dict, node: str) -> list[str]:
    found = [node]
    for kid in children[node]:
        found += descendants(children, kid)
    return found


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_desactive_nodes_have_no_potential(case):
    tree, statuts, consequences = case
    table = score_referentiel(tree, statuts, consequences)
    children = {node: [tree.ids[c] for c in tree.children[tree.index[node]]] for node in tree.ids}
    switched_off = {n for a, c in consequences.items() if c.desactive for n in descendants(children, a)}
    for record in table.records():
        assert record.desactive == (record.action_id in switched_off)
        if record.desactive:
            assert record.point_potentiel == 0 and record.point_potentiel_perso is None
            assert not record.concerne and record.renseigne


@settings(max_examples=150, deadline=None)
@given(scenarios(with_consequences=False))
def test_fractions_and_counts_stay_bounded(case):
    tree, statuts, _ = case
    for record in score_referentiel(tree, statuts, {}).records():
        avancements = (record.fait_taches_avancement, record.programme_taches_avancement,
                       record.pas_fait_taches_avancement)
        assert min(avancements) >= 0 and record.pas_concerne_taches_avancement >= 0
        assert sum(avancements) <= record.completed_taches_count + 1e-9
        assert record.completed_taches_count <= record.total_taches_count
        assert record.pas_concerne_taches_avancement <= record.total_taches_count
        assert min(getattr(record, name) for name in POINT_FIELDS) >= 0 and record.point_potentiel >= 0
        assert sum(getattr(record, name) for name in POINT_FIELDS) <= record.point_potentiel + 5 * ROUNDING


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_rule_b_nodes_are_the_sums_of_their_children(case):
    tree, statuts, consequences = case
    table = score_referentiel(tree, statuts, consequences)
    own_state = {s.action_id for s in statuts if s.avancement is not None}
    concerned = {s.action_id for s in statuts if s.concerne}
    for i in tree.inner:
        record = table.record(i)
        # Rule B: not a leaf, no avancement, not in N (in N means concerne false, unless blocked by C).
        if record.action_id in own_state or record.desactive or not (record.concerne or record.action_id in concerned):
            continue
        kids = [table.record(c) for c in tree.children[i]]
        for name in ("total_taches_count", "completed_taches_count"):
            assert getattr(record, name) == sum(getattr(kid, name) for kid in kids)
        for name in POINT_FIELDS:
            expected = sum(getattr(kid, name) for kid in kids)
            assert abs(getattr(record, name) - expected) <= ROUNDING * (len(kids) + 1)
        assert record.concerne == any(kid.concerne for kid in kids)


@settings(max_examples=100, deadline=None)
@given(scenarios(with_statuts=False, with_consequences=False))
def test_without_statut_everything_is_non_renseigne(case):
    tree, _, _ = case
    for record in score_referentiel(tree, [], {}).records():
        assert record.point_non_renseigne == record.point_potentiel == record.point_referentiel
        assert record.point_fait == record.point_programme == record.point_pas_fait == 0
        assert record.completed_taches_count == 0 and record.concerne
        assert record.renseigne == (record.point_potentiel == 0)


@settings(max_examples=100, deadline=None)
@given(scenarios())
def test_rows_and_records_agree(case):
    table = score_referentiel(*case)
    assert [table.record(i) for i in range(table.tree.size)] == list(table.records())
    assert {a: tuple(getattr(table[a], name) for name in SCORE_FIELDS) for a in table} == table.rows()


@settings(max_examples=100, deadline=None)
@given(scenarios(), st.randoms(use_true_random=False))
def test_statut_order_and_foreign_ids_do_not_matter(case, random):
    tree, statuts, consequences = case
    expected = list(score_referentiel(tree, statuts, consequences).records())
    shuffled = statuts + [Statut("x_1", (1.0, 0.0, 0.0), True)]
    random.shuffle(shuffled)
    foreign = {**consequences, "x_1": Consequence(True, 0.5, "min(score(x_1), 1)")}
    assert list(score_referentiel(tree, shuffled, foreign).records()) == expected
