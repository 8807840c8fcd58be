"""Reports of a results directory (markov/report/): the workbook against the CSV tables,
the HTML page parsed and opened in a real browser, and the sections of what was not run."""
import base64
import csv
import html
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import matplotlib
import pytest
import yaml
from openpyxl import load_workbook

from markov import cli
from markov._validate import InputError
from markov.cli import main
from markov.decision import voi
from markov.inputs import load_analysis
from markov.models.base import CohortModel
from markov.report import write_html, write_reports, write_workbook
from markov.report.page import compact_svg
from markov.results import ANALYSIS_LABEL, POPULATION_LABELS
from markov.runs import run_analysis, run_dsa

SHEETS = ["Contents", "Inputs", "Base case", "Incremental analysis", "Calibration", "Model vs data",
          "Model vs data by month", "PSA summary", "ICER summary", "EVPI", "EVPPI", "CEAC", "DSA", "DSA ranges",
          "Scenarios", "Threshold prices"]
# text from the results directory that would run or load something if it were not escaped
HOSTILE = '<script>alert("x")</script><img src="https://example.org/x.png">'
HARNESS = Path(__file__).with_name("browser_harness.html")


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    """A complete results directory of the shipped model on a coarse grid (monthly cycles,
    10 years): base case, a PSA just large enough for the EVPPI, the DSA, and run.json."""
    matplotlib.use("Agg")  # figures are only written to files
    root = tmp_path_factory.mktemp("report")
    analysis = root / "small.yaml"
    analysis.write_text(yaml.safe_dump({"name": "small", "cycle_length_days": 30.4375, "horizon_years": 10}))
    inputs = load_analysis(analysis)
    out = root / "results"
    run_analysis(inputs, out, psa_samples=voi.MIN_EVPPI_SAMPLES, seed=3)
    run_dsa(inputs, out / "dsa", two_way_points=3)
    # provenance: the record a run writes, if it writes one, with hostile text in it
    record = out / "run.json"
    held = json.loads(record.read_text()) if record.is_file() else {}
    held.setdefault("commands", {"run": {"psa_samples": voi.MIN_EVPPI_SAMPLES, "seed": 3}})
    record.write_text(json.dumps({**held, "analysis": f"small {HOSTILE}", ANALYSIS_LABEL: f"small {HOSTILE}",
                                  "seed": 3}))
    return out


@pytest.fixture(scope="module")
def reports(results, tmp_path_factory) -> dict[str, Path]:
    written = write_reports(results, tmp_path_factory.mktemp("reports"))
    return {path.suffix: path for path in written}


def _copy(results: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(results, tmp_path / "results"))


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _figures(results: Path) -> set[str]:
    """Every figure of a results directory, by name without suffix (dsa/ ones prefixed)."""
    return {str(p.relative_to(results).with_suffix("")) for p in results.rglob("*") if p.suffix in (".svg", ".png")}


class _Page(HTMLParser):
    """What the tests check of the HTML page: attributes that load or link, ids, images,
    figure captions and the text of each table's cells."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.tables: dict[str, list[str]] = {}
        self.captions: list[str] = []
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._caption: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attributes = {k: v or "" for k, v in attrs}
        self.tags.append((tag, attributes))
        if tag == "table":
            self._table = attributes.get("id", "")
            self.tables[self._table] = []
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []
        elif tag == "figcaption":
            self._caption = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[self._table].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None
        elif tag == "figcaption":
            self.captions.append("".join(self._caption))
            self._caption = None

    def handle_data(self, data):
        for collector in (self._cell, self._caption):
            if collector is not None:
                collector.append(data)

    def attributes(self, name: str) -> list[str]:
        return [attrs[name] for _, attrs in self.tags if name in attrs]

    def images(self) -> list[dict[str, str]]:
        return [attrs for tag, attrs in self.tags if tag == "img"]


@pytest.fixture(scope="module")
def page(reports) -> _Page:
    return _Page(reports[".html"].read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------
# Workbook
# ---------------------------------------------------------------------------------

def test_workbook_has_every_sheet_with_a_bold_frozen_header(reports):
    book = load_workbook(reports[".xlsx"])
    assert book.sheetnames == SHEETS
    for sheet in book.worksheets[1:]:
        assert sheet.freeze_panes == "A2", sheet.title
        assert all(cell.font.b for cell in sheet[1]), sheet.title
        assert sheet.max_row > 1, f"{sheet.title}: {sheet['A1'].value}"
        widths = [sheet.column_dimensions[cell.column_letter].width for cell in sheet[1]]
        assert all(8 <= width <= 64 for width in widths), sheet.title
    contents = [row[0] for row in book["Contents"].iter_rows(values_only=True)]
    assert set(SHEETS[1:]) <= set(contents)
    provenance = {row[0]: row[1] for row in book["Contents"].iter_rows(values_only=True)}
    assert provenance["Analysis"] == f"small {HOSTILE}"
    assert provenance["Seed"] == "3"
    assert provenance["Commands › run › PSA samples"] == str(voi.MIN_EVPPI_SAMPLES)


def test_base_case_sheet_holds_the_numbers_of_the_csv_exactly(results, reports):
    sheet = load_workbook(reports[".xlsx"])["Base case"]
    header = [cell.value for cell in sheet[1]]
    assert header[:6] == ["Population", "Strategy", "Label", "Cost (USD)", "Life years", "QALYs"]
    expected = [row for path in sorted(results.glob("results_*.csv")) for row in _rows(path)]
    cells = list(sheet.iter_rows(min_row=2))
    assert len(cells) == len(expected)
    columns = list(expected[0])
    for row, values in zip(cells, expected, strict=True):
        for cell, column in zip(row, columns, strict=True):
            text = values[column]
            if column in ("population", "strategy", "label"):
                assert cell.value == text
            elif text == "":
                assert cell.value is None
            else:
                # a number, equal to the CSV's to the last bit
                assert isinstance(cell.value, (int, float)) and cell.value == float(text), (column, cell.value, text)
        formats = {column: cell.number_format for cell, column in zip(row, columns, strict=True)}
        assert formats["cost"] == formats["cost_first_line_drugs"] == "#,##0"
        assert formats["qalys"] == formats["life_years"] == "0.000"


def test_every_number_in_the_workbook_has_a_format(reports):
    """No raw float with 15 digits on screen: each number cell has a display format."""
    book = load_workbook(reports[".xlsx"])
    for sheet in book.worksheets[1:]:
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, float):
                    assert cell.number_format != "General", (sheet.title, cell.coordinate, cell.value)


def test_inputs_sheet_lists_every_input_with_its_source(results, reports):
    sheet = load_workbook(reports[".xlsx"])["Inputs"]
    header = [cell.value for cell in sheet[1]]
    by_reference = {row[0]: dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)}
    expected = _rows(results / "inputs.csv")
    assert len(by_reference) == len(expected)
    for row in expected:
        shown = by_reference[row["reference"]]
        assert shown["Source"] == row["source"]
        assert shown["Value"] == float(row["value"])
        assert shown["Status"] == row["status"]
        assert shown["PSA distribution"] == row["distribution"]


def test_psa_sheets_hold_the_summaries_and_evpi_at_the_thresholds(results, reports):
    book = load_workbook(reports[".xlsx"])
    summary = _rows(results / "psa_summary.csv")
    values = list(book["PSA summary"].iter_rows(min_row=2, values_only=True))
    assert [(v[0], v[1], v[2]) for v in values] == [(r["population"], r["strategy"], float(r["cost_mean"]))
                                                   for r in summary]
    evpi = {(row[0], row[1]): row[2] for row in book["EVPI"].iter_rows(min_row=2, values_only=True)}
    for path in results.glob("evpi_*.csv"):
        population = path.stem.removeprefix("evpi_")
        for row in _rows(path):
            if float(row["wtp"]) in (100_000.0, 150_000.0):
                assert evpi[(population, float(row["wtp"]))] == float(row["evpi"])
    assert len(evpi) == 2 * len(list(results.glob("evpi_*.csv")))
    probability = [cell.number_format for cell in book["CEAC"]["D"][1:]]
    assert set(probability) == {"0.000"}


# ---------------------------------------------------------------------------------
# HTML page
# ---------------------------------------------------------------------------------

def test_html_loads_nothing_from_outside(page, reports):
    for source in page.attributes("src"):
        assert source.startswith(("data:image/svg+xml;charset=utf-8,", "data:image/png;base64,")), source[:60]
    ids = set(page.attributes("id"))
    links = page.attributes("href")
    assert links and all(link.startswith("#") and link[1:] in ids for link in links)
    assert not [tag for tag, _ in page.tags if tag in ("script", "link", "iframe", "object", "embed")]
    text = reports[".html"].read_text(encoding="utf-8")
    outside_figures = re.sub(r'src="data:[^"]*"', "", text)  # an SVG's own url(#clip) refers to itself
    assert "url(" not in outside_figures and "@import" not in outside_figures


def test_html_escapes_text_from_the_results(page, reports):
    text = reports[".html"].read_text(encoding="utf-8")
    assert HOSTILE not in text
    assert html.escape(f"small {HOSTILE}") in text


def _visible_text(text: str) -> str:
    """The HTML page without its embedded figures, style sheet and markup: what a reader reads."""
    text = re.sub(r'src="data:[^"]*"', "", text)
    text = re.sub(r"<style>.*?</style>", "", text, flags=re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


def _workbook_text(path: Path) -> str:
    return "\n".join(str(value) for sheet in load_workbook(path).worksheets
                     for row in sheet.iter_rows(values_only=True) for value in row if value is not None)


def _rewrite_record(directory: Path, **changes) -> None:
    record = directory / "run.json"
    held = json.loads(record.read_text())
    record.write_text(json.dumps({key: value for key, value in {**held, **changes}.items() if value is not None}))


def test_reports_take_their_title_from_the_analysis_label_not_its_key(results, tmp_path):
    directory = _copy(results, tmp_path)
    _rewrite_record(directory, analysis="hcc_base_case", **{ANALYSIS_LABEL: "Atezo-Bev in first line, HCC"})
    workbook, page = write_reports(directory, tmp_path / "labelled")
    parsed = _Page(page.read_text(encoding="utf-8"))
    title = "Cost-effectiveness report: Atezo-Bev in first line, HCC"
    assert f"<title>{title}</title>" in page.read_text(encoding="utf-8")
    assert load_workbook(workbook)["Contents"]["A1"].value == "Cost-effectiveness results: Atezo-Bev in first line, HCC"
    # a record of an earlier version, without the label: the key in words
    _rewrite_record(directory, **{ANALYSIS_LABEL: None})
    workbook, page = write_reports(directory, tmp_path / "from-key")
    text = page.read_text(encoding="utf-8")
    assert "<title>Cost-effectiveness report: HCC base case</title>" in text and "hcc_base_case" not in text
    assert load_workbook(workbook)["Contents"]["A1"].value == "Cost-effectiveness results: HCC base case"
    # populations by their labels, in the headings and the contents
    labels = json.loads((directory / "run.json").read_text())[POPULATION_LABELS]
    headings = [attrs.get("id") for tag, attrs in parsed.tags if tag == "h3"]
    assert {"base-imbrave150", "base-mvi"} <= set(headings)
    for label in labels.values():
        assert html.escape(label) in page.read_text(encoding="utf-8")


def test_reports_name_no_path_of_the_machine(results, tmp_path):
    """Neither report says where the results lie on the machine that wrote them: the
    directory by its name, the analysis file by its name, commands with DIR."""
    directory = _copy(results, tmp_path)
    _rewrite_record(directory, source=str(tmp_path / "somewhere" / "analysis.yaml"))
    shutil.rmtree(directory / "dsa")  # its section then names the command that writes it
    workbook, page = write_reports(directory)
    for text in (_visible_text(page.read_text(encoding="utf-8")), _workbook_text(workbook)):
        assert str(tmp_path) not in text and str(tmp_path.resolve()) not in text
        assert "analysis.yaml" in text and "`markov dsa --out DIR/dsa` writes it" in text
    provenance = {row[0]: row[1] for row in load_workbook(workbook)["Contents"].iter_rows(values_only=True)}
    assert provenance["Results directory"] == directory.name == "results"


def test_reports_show_amounts_with_their_currency_and_keys_by_their_labels(results, reports, tmp_path):
    text = _visible_text(reports[".html"].read_text(encoding="utf-8"))
    contents = {row[0]: row[1] for row in load_workbook(reports[".xlsx"])["Contents"].iter_rows(values_only=True)}
    for shown in (text, "\n".join(f"{k}: {v}" for k, v in contents.items() if k)):
        assert "US payer" in shown and "us_payer" not in shown
        assert "150000.0" not in shown and "150000" not in shown.replace("Fixed(150000)", "")
    # the DSA's threshold, written 150000.0 in its record
    assert json.loads((results / "dsa" / "run.json").read_text())["commands"]["dsa"]["wtp"] == 150_000.0
    assert contents["DSA › Commands › dsa › willingness to pay"] == "$150,000/QALY"
    assert "Thresholds: $100,000/QALY, $150,000/QALY." in text and "NMB at $150,000/QALY (USD)" in text
    assert "EVPPI per patient at $150,000/QALY" in text
    assert "EVPPI standard error (USD)" in text and "with the standard error of the regression's estimate" in text
    # inputs in the EVPPI table by their labels, never their keys
    inputs = {row["reference"]: row["label"] for row in _rows(results / "inputs.csv")}
    for population in ("imbrave150", "mvi"):
        cells = _Page(reports[".html"].read_text(encoding="utf-8")).tables[f"table-evppi-{population}"]
        assert not [cell for cell in cells if cell in inputs or "_" in cell]
        assert any(cell in inputs.values() for cell in cells) or any("inputs of this source" in c for c in cells)
    # in pounds, the pound sign
    directory = _copy(results, tmp_path)
    _rewrite_record(directory, currency="GBP")
    assert "Thresholds: £100,000/QALY, £150,000/QALY." in _visible_text(
        write_html(directory, tmp_path / "gbp.html").read_text(encoding="utf-8"))


def test_figures_are_embedded_compact_and_drawn_the_same(results, page):
    """Each figure is embedded as the smaller of its compact SVG and its PNG, well under
    the SVG files as they are; a compact SVG has the elements of its file, each geometry
    attribute within 0.005 pt, and every reference it holds resolves."""
    embedded, raw = 0, 0
    for image, caption in zip(page.images(), page.captions, strict=True):
        name = re.search(r"\(([^()]+)\)$", caption).group(1)
        file = next(results.rglob(name))
        source = image["src"]
        embedded += len(source)
        raw += len(base64.b64encode(file.with_suffix(".svg").read_bytes()))  # as the page embedded it before
        alternative = file.with_suffix(".png" if file.suffix == ".svg" else ".svg")
        if source.startswith("data:image/svg+xml"):
            assert len(source) < len(base64.b64encode(alternative.read_bytes())), name  # no PNG is smaller
            ET.fromstring(unquote(source.split(",", 1)[1]))  # well-formed
    assert embedded < 0.65 * raw
    for path in sorted(results.rglob("*.svg"))[:6]:
        original = ET.parse(path).getroot()
        for metadata in original.findall("{http://www.w3.org/2000/svg}metadata"):  # dropped: the date, the writer
            original.remove(metadata)
        compact = ET.fromstring(compact_svg(path.read_text(encoding="utf-8")))
        pairs = list(zip(original.iter(), compact.iter(), strict=True))
        assert all(a.tag == b.tag and set(b.attrib) <= set(a.attrib) for a, b in pairs)
        number = re.compile(r"-?\d*\.?\d+(?:e[-+]?\d+)?")
        for a, b in pairs:
            for name in ("d", "x", "y", "width", "height", "viewBox", "transform"):
                if name in a.attrib:
                    before = [float(v) for v in number.findall(a.attrib[name])]
                    after = [float(v) for v in number.findall(b.attrib[name])]
                    assert len(before) == len(after), (path.name, name)
                    assert all(abs(u - v) <= 0.005 + 1e-12 for u, v in zip(before, after, strict=True)), name
        ids = {element.get("id") for element in compact.iter()} - {None}
        link = "{http://www.w3.org/1999/xlink}href"
        references = {element.get(link)[1:] for element in compact.iter() if element.get(link, "").startswith("#")}
        references |= set(re.findall(r"url\(#([^)]+)\)", compact_svg(path.read_text(encoding="utf-8"))))
        assert references <= ids, path.name


def test_html_shows_every_figure_numbered_and_captioned(results, page):
    figures = _figures(results)
    images = page.images()
    assert len(images) == len(figures) > 0
    shown = {re.search(r"\(([^()]+)\.(?:svg|png)\)$", caption).group(1) for caption in page.captions}
    assert shown == {Path(name).name for name in figures}
    assert [re.match(r"Figure (\d+)\.", caption).group(1) for caption in page.captions] == [
        str(i) for i in range(1, len(figures) + 1)]
    assert all(image["alt"] for image in images)
    assert any(image["src"].startswith("data:image/svg+xml") for image in images)


def test_html_tables_hold_the_values_of_the_csvs(results, page):
    for path in sorted(results.glob("results_*.csv")):
        population = path.stem.removeprefix("results_")
        cells = page.tables[f"table-results-{population}"]
        for row in _rows(path):
            assert row["label"] in cells
            assert f"{float(row['cost']):,.0f}" in cells
            assert f"{float(row['qalys']):.3f}" in cells
        cells = page.tables[f"table-incremental-{population}"]
        for row in _rows(results / f"incremental_{population}.csv"):
            if row["icer_per_qaly"]:
                assert f"{float(row['icer_per_qaly']):,.0f}" in cells
            assert f"{float(row['nmb_at_150000_USD']):,.0f}" in cells
        cells = page.tables[f"table-icer-summary-{population}"]
        for row in _rows(results / f"icer_summary_{population}.csv"):
            assert f"{float(row['mean_incremental_cost']):,.0f}" in cells
        cells = page.tables[f"table-tornado-nmb-{population}"]
        top = max(_rows(results / "dsa" / f"tornado_nmb_{population}.csv"), key=lambda r: float(r["swing"]))
        assert top["parameter"] in cells and f"{float(top['swing']):,.0f}" in cells
    headings = page.tables["table-results-imbrave150"][:1] + page.tables["table-incremental-imbrave150"][:8]
    assert "Cost (USD)" in headings and "ICER (USD/QALY)" in headings
    inputs = page.tables["table-inputs"]
    for row in _rows(results / "inputs.csv"):
        assert row["reference"] in inputs
    prices = page.tables["table-threshold-prices"]
    for row in _rows(results / "dsa" / "threshold_prices.csv"):
        if row["threshold_price"]:
            assert f"{float(row['threshold_price']):,.2f}" in prices


def test_model_vs_data_is_shown_where_strategies_name_data_and_said_not_run_where_none_does(results, reports,
                                                                                          page, tmp_path):
    summary = _rows(results / "model_vs_data_summary.csv")
    assert {row["strategy"] for row in summary} == {"atezo_bev", "sorafenib", "lenvatinib"}
    cells = page.tables["table-model-vs-data-imbrave150"]
    assert "Model inside the 95% CI (share of follow-up)" in cells
    for row in summary:
        assert row["label"] in cells and f"{float(row['share_inside_ci']):.1%}" in cells
    book = load_workbook(reports[".xlsx"])
    sheet = list(book["Model vs data"].iter_rows(values_only=True))
    column = sheet[0].index("Model inside the 95% CI (share of follow-up)")
    assert [line[column] for line in sheet[1:]] == [float(row["share_inside_ci"]) for row in summary]
    assert book["Model vs data by month"].max_row - 1 == len(_rows(results / "model_vs_data.csv"))

    directory = _copy(results, tmp_path)
    for path in directory.glob("model_vs_data*"):
        path.unlink()
    workbook, html = write_reports(directory)
    assert "No strategy&#x27;s targets name patient-level data" in html.read_text(encoding="utf-8")
    book = load_workbook(workbook)
    for name in ("Model vs data", "Model vs data by month"):
        assert book[name]["A1"].value.startswith("Not run. No strategy's targets name patient-level data"), name


def test_html_page_prints_well(reports):
    text = reports[".html"].read_text(encoding="utf-8")
    assert "@media print" in text and "break-inside: avoid" in text


def _chromium() -> str | None:
    return next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)


@pytest.mark.slow
@pytest.mark.skipif(_chromium() is None, reason="no Chromium (chromium, chromium-browser or google-chrome) on PATH")
def test_a_browser_loads_and_draws_every_figure(results, reports, tmp_path):
    """Headless Chromium opens the report in the harness page, which writes into its own
    DOM what became of each image; --dump-dom prints that DOM."""
    shutil.copy(reports[".html"], tmp_path / "report.html")
    shutil.copy(HARNESS, tmp_path / "harness.html")
    command = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
               f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000", "--dump-dom",
               (tmp_path / "harness.html").as_uri() + "?report=report.html"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    found = re.search(r'<pre id="result" data-state="(\w+)">(.*?)</pre>', done.stdout, re.S)
    assert found, f"no result in the DOM (exit {done.returncode}): {done.stderr[-2000:]}"
    state, report = found.group(1), json.loads(html.unescape(found.group(2)))
    assert state == "done", report
    images = report["images"]
    assert len(images) == report["figures"] == len(_figures(results)) > 0
    assert [image["alt"][:40] for image in images if not image["loaded"]] == []
    assert all(image["width"] > 100 and image["height"] > 100 for image in images)
    # painted onto a canvas, each figure leaves ink: it decoded and rendered, not just loaded
    assert all(isinstance(image["drawn"], int) and image["drawn"] > 100 for image in images), images


# ---------------------------------------------------------------------------------
# What was not run, and what is not a results directory
# ---------------------------------------------------------------------------------

def test_a_base_case_alone_gives_every_section_saying_what_was_not_run(results, tmp_path):
    directory = _copy(results, tmp_path)
    shutil.rmtree(directory / "dsa")
    (directory / "run.json").unlink()
    for path in directory.iterdir():  # every PSA output, the per-sample store too where there is one
        if path.name.startswith(("psa_", "icer_summary_", "ce_plane_", "ceac_", "ceaf_", "evpi_", "evppi_",
                                 "convergence_")):
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
    workbook, page = write_reports(directory)
    assert workbook.parent == directory
    text = page.read_text(encoding="utf-8")
    assert "The probabilistic sensitivity analysis was not run" in text
    assert "The deterministic sensitivity analysis was not run" in text
    assert "absent: no provenance recorded" in text
    book = load_workbook(workbook)
    assert book.sheetnames == SHEETS
    for name in ("PSA summary", "ICER summary", "EVPI", "EVPPI", "CEAC", "DSA", "Scenarios", "Threshold prices"):
        assert book[name]["A1"].value.startswith("Not run."), name
    assert isinstance(book["Base case"]["D2"].value, float)
    assert len(_Page(text).images()) == len(_figures(directory)) > 0


def test_a_psa_alone_renders_with_the_base_case_and_dsa_not_run(results, tmp_path):
    """What `markov psa` writes: no base-case tables, inputs or DSA; populations, strategy
    labels and thresholds come from the PSA summary and run.json."""
    directory = _copy(results, tmp_path)
    shutil.rmtree(directory / "dsa")
    for path in directory.iterdir():
        if path.name.startswith(("results_", "incremental_", "calibration", "occupancy_", "inputs.",
                                 "model_vs_data")):
            path.unlink()
    workbook, page = write_reports(directory)
    text = page.read_text(encoding="utf-8")
    assert text.count("The base case was not run") == 2  # base case and calibration
    assert "The deterministic sensitivity analysis was not run" in text
    assert "The probabilistic sensitivity analysis was not run" not in text
    labels = json.loads((directory / "run.json").read_text())[POPULATION_LABELS]
    assert (f"Populations: {labels['imbrave150']}; {labels['mvi']}. Currency: USD. Thresholds: $100,000/QALY, "
            "$150,000/QALY.") in html.unescape(text)
    parsed = _Page(text)
    labels = {row["strategy"]: row["label"] for path in results.glob("results_*.csv") for row in _rows(path)}
    for population in ("imbrave150", "mvi"):
        summary = parsed.tables[f"table-psa-summary-{population}"]
        assert {labels[r["strategy"]] for r in _rows(directory / "psa_summary.csv") if r["population"] == population
                } <= set(summary)
    assert len(parsed.images()) == len(_figures(directory)) > 0
    book = load_workbook(workbook)
    assert book.sheetnames == SHEETS
    for name in ("Base case", "Incremental analysis", "Calibration", "Model vs data", "Model vs data by month"):
        assert book[name]["A1"].value.startswith("Not run. The base case was not run"), name
    assert book["Inputs"]["A1"].value.startswith("Not run. No inputs.csv")
    assert book["PSA summary"]["A1"].value == "Population"


def test_missing_evppi_and_svg_are_said_and_replaced(results, tmp_path):
    directory = _copy(results, tmp_path)
    for path in directory.glob("evppi_*"):
        path.unlink()
    (directory / "ce_plane_mvi.svg").unlink()
    text = write_html(directory, tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert text.count("EVPPI was not computed") == 2
    mvi = json.loads((directory / "run.json").read_text())[POPULATION_LABELS]["mvi"]
    planes = [image for image in _Page(text).images() if image["alt"].startswith(f"Cost-effectiveness plane, {mvi}")]
    assert len(planes) == 1 and planes[0]["src"].startswith("data:image/png;base64,")
    book = load_workbook(write_workbook(directory, tmp_path / "out" / "report.xlsx"))
    assert book["EVPPI"]["A1"].value.startswith("Not run. EVPPI was not computed")


def test_text_of_a_table_is_never_markup_nor_a_formula(results, tmp_path):
    directory = _copy(results, tmp_path)
    rows = _rows(directory / "inputs.csv")
    formula = '=HYPERLINK("https://example.org","x")'
    rows[0]["source"], rows[1]["source"] = HOSTILE, formula
    with (directory / "inputs.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    workbook, page = write_reports(directory, tmp_path / "out")
    text = page.read_text(encoding="utf-8")
    assert HOSTILE not in text and html.escape(HOSTILE) in text
    sheet = load_workbook(workbook)["Inputs"]
    column = next(cell.column_letter for cell in sheet[1] if cell.value == "Source")
    sources = {cell.value: cell.data_type for cell in sheet[column]}
    assert sources[HOSTILE] == "s" and sources[formula] == "s"


def test_a_directory_without_results_is_an_input_error(tmp_path):
    (tmp_path / "inputs.csv").write_text("reference,value\n")
    with pytest.raises(InputError, match=rf"{re.escape(str(tmp_path))}: has neither results_<population>\.csv .*"
                                         r"nor psa_summary\.csv"):
        write_reports(tmp_path)
    with pytest.raises(InputError, match="does not exist"):
        write_html(tmp_path / "absent", tmp_path / "report.html")
    assert not (tmp_path / "report.html").exists()


def test_a_table_without_its_columns_is_an_input_error(results, tmp_path):
    directory = _copy(results, tmp_path)
    (directory / "incremental_mvi.csv").write_text("population,strategy\nmvi,sorafenib\n")
    with pytest.raises(InputError, match=r"incremental_mvi\.csv: has no column cost"):
        write_workbook(directory, tmp_path / "report.xlsx")


# ---------------------------------------------------------------------------------
# `markov report DIR`: the reports of an existing results directory
# ---------------------------------------------------------------------------------

def test_markov_report_renders_a_psa_directory_without_evaluating_the_model(tmp_path, monkeypatch, capsys):
    """A directory of `markov psa` alone (EVPPI included); the command loads no analysis and
    evaluates no model, and changes nothing but the two reports (and the lock it held)."""
    analysis = tmp_path / "small.yaml"
    analysis.write_text(yaml.safe_dump({"name": "small", "cycle_length_days": 30.4375, "horizon_years": 10,
                                        "populations": ["mvi"]}))
    out = tmp_path / "psa"
    assert main(["psa", str(analysis), "-n", str(voi.MIN_EVPPI_SAMPLES + 10), "--seed", "3", "--out", str(out)]) == 0
    before = {path: path.stat().st_mtime_ns for path in out.rglob("*") if path.name != ".lock"}

    def refuse(*args, **kwargs):
        raise AssertionError("markov report DIR computed something")

    monkeypatch.setattr(CohortModel, "evaluate", refuse)
    monkeypatch.setattr(cli, "load_analysis", refuse)
    capsys.readouterr()
    assert main(["report", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.err == f"Writing report.xlsx and report.html to {out}\n" and f"Wrote 2 files to {out}" in captured.out
    assert {path: path.stat().st_mtime_ns for path in out.rglob("*")
            if not path.name.startswith("report.") and path.name != ".lock"} == before
    text = (out / "report.html").read_text(encoding="utf-8")
    assert text.count("The base case was not run") == 2
    assert "The deterministic sensitivity analysis was not run" in text
    page = _Page(text)
    assert {"table-psa-summary-mvi", "table-icer-summary-mvi", "table-evpi-mvi", "table-evppi-mvi"} <= set(page.tables)
    assert "Sorafenib" in page.tables["table-psa-summary-mvi"]  # the label, from run.json
    assert len(page.images()) == len(_figures(out)) > 0
    book = load_workbook(out / "report.xlsx")
    assert book["EVPPI"]["A1"].value == "Population" and book["Base case"]["A1"].value.startswith("Not run.")


def test_markov_report_of_a_directory_without_run_record_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "results_mvi.csv").write_text("population,strategy,label,cost,life_years,qalys\n")
    assert main(["report", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"markov: error: {tmp_path}: has no run.json") and error.count("\n") == 1
    assert not list(tmp_path.glob("report.*"))


def test_markov_report_of_a_directory_refuses_the_options_that_run(results, tmp_path, capsys):
    assert main(["report", str(results), "--psa", "10", "--no-dsa"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("markov: error: --psa, --no-dsa: ") and error.count("\n") == 1
    assert main(["report", str(results), "--out", str(tmp_path / "elsewhere")]) == 0
    assert sorted(p.name for p in (tmp_path / "elsewhere").iterdir()) == [".lock", "report.html", "report.xlsx"]
