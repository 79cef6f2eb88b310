"""Definitions from text, pure: the 2026 catalogue CSV (19 columns, one row per indicateur) and the
2022 markdown (`<groupe>/*.md`, several indicateurs per file, see spec/content-format.md §4).
Each returns (definitions, errors) with the `path:line` of every problem; nothing is checked
across definitions here (validate.py does)."""
import csv
import io

from app.content_loader import parse_text
from app.indicateur_defs.model import Definition, LoadError
from app.markdown import render_markdown

CSV_COLUMNS = ("identifiantReferentiel", "titre", "unite", "titreCourt", "titreLong", "parents", "categories",
               "thematiques", "actionIds", "valeurCalcule", "participationScore", "sansValeurUtilisateur",
               "borneMin", "borneMax", "precision", "description", "exprCible", "exprSeuil", "libelleCibleSeuil")
MARKDOWN_KEYS = {"id", "identifiant", "unite", "valeur", "obligation_cae", "obligation_eci", "actions",
                 "programmes", "climat_pratic_ids"}


def _list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def parse_csv(path: str, text: str) -> tuple[list[Definition], list[LoadError]]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, [])
    missing = [column for column in CSV_COLUMNS if column not in header]
    if missing:
        return [], [LoadError(path, 1, f"colonnes manquantes : {', '.join(missing)}")]
    definitions, errors = [], []
    line = reader.line_num + 1
    for values in reader:
        row = dict(zip(header, values))
        problems: list[str] = []
        if len(values) != len(header):
            problems.append(f"{len(values)} colonnes au lieu de {len(header)}")
            row = dict.fromkeys(header, "") | row

        def number(column: str, kind=float):
            raw = row.get(column, "").strip().replace(",", ".")
            try:
                return kind(raw) if raw else None
            except ValueError:
                problems.append(f"{column} n'est pas un nombre : « {raw} »")
                return None

        if not row["identifiantReferentiel"].strip():
            problems.append("identifiant manquant")
        if not row["titre"].strip():
            problems.append("titre manquant")
        precision = number("precision", int)
        definition = Definition(
            id=row["identifiantReferentiel"].strip(), titre=row["titre"].strip(), unite=row["unite"].strip(),
            source_path=path, source_line=line, description=render_markdown(row["description"]),
            titre_court=row["titreCourt"].strip(), parents=_list(row["parents"]), categories=_list(row["categories"]),
            thematiques=_list(row["thematiques"]), action_ids=_list(row["actionIds"]),
            formule=row["valeurCalcule"].strip() or None,
            participation_score=row["participationScore"].strip().upper() == "TRUE",
            sans_valeur_utilisateur=row["sansValeurUtilisateur"].strip().upper() == "TRUE",
            borne_min=number("borneMin"), borne_max=number("borneMax"),
            precision=2 if precision is None else precision,
            expr_cible=row["exprCible"].strip() or None, expr_seuil=row["exprSeuil"].strip() or None,
            libelle_cible_seuil=row["libelleCibleSeuil"].strip() or None,
        )
        errors += [LoadError(path, line, f"{definition.id or 'ligne'} : {problem}") for problem in problems]
        if not problems:
            definitions.append(definition)
        line = reader.line_num + 1
    return definitions, errors


def parse_markdown(path: str, groupe: str, text: str) -> tuple[list[Definition], list[LoadError]]:
    """One markdown file of the folder `groupe` (cae, eci, crte), `path` as shown in errors."""
    parsed = parse_text(f"indicateurs/{groupe}/{path.rsplit('/', 1)[-1]}", text)
    errors = [LoadError(path, error.line, error.message) for error in parsed.errors]
    definitions = []
    for node in parsed.nodes:
        fields = node.fields
        unknown = sorted(set(fields) - MARKDOWN_KEYS)
        problems = [f"clé inconnue : {key}" for key in unknown]
        for key in ("id", "unite"):
            if not isinstance(fields.get(key), str | int | float) or not str(fields[key]).strip():
                problems.append(f"« {key} » manquant")
        if "description" not in node.sections:
            problems.append("pas de section « ## Description »")
        if not node.title:
            problems.append("titre manquant")
        if problems:
            errors += [LoadError(path, node.line, problem) for problem in problems]
            continue
        categories = [groupe, *[str(p) for p in fields.get("programmes") or []]]
        categories += [key for key in ("obligation_cae", "obligation_eci") if fields.get(key) is True]
        description = node.sections["description"].html
        if "source" in node.sections:
            description += node.sections["source"].html
        definitions.append(Definition(
            id=str(fields["id"]).strip(), titre=node.title.strip(), unite=str(fields["unite"]).strip(),
            source_path=path, source_line=node.line, description=description,
            categories=list(dict.fromkeys(categories)),
            thematiques=[str(t) for t in fields.get("climat_pratic_ids") or []],
            action_ids=[str(a) for a in fields.get("actions") or []],
            # A CRTE indicateur that repeats another one: computed as that one's value.
            formule=f"val({fields['valeur']})" if fields.get("valeur") else None,
        ))
    return definitions, errors
