"""The study the notebooks tell: profiles (how big), :class:`Study` (one notebook's rows,
run through :mod:`i2p.experiments`, with paper-vs-run tables and computed readings), and
the headless runner that executes every notebook and writes one offline HTML report."""
from .profiles import PROFILES, Profile, get_profile
from .reading import Difference, difference, fmt, rank_agreement
from .runner import list_notebooks, run_study
from .session import DryRun, Row, Study, project_root

__all__ = ["PROFILES", "Profile", "get_profile", "Study", "Row", "DryRun", "project_root", "run_study",
           "list_notebooks", "Difference", "difference", "fmt", "rank_agreement", "setup_notebook"]


def setup_notebook() -> None:
    """Plotly figures that survive nbconvert offline: the mime type for JupyterLab plus
    the ``notebook`` renderer, which carries plotly.js inside the notebook's HTML."""
    import plotly.io as pio

    pio.renderers.default = "plotly_mimetype+notebook"
