"""Text helpers shared by the searches."""
import unicodedata


def fold_accents(text: str) -> str:
    """The text without its accents ('Énergie' -> 'Energie'); case is left to the caller."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))
