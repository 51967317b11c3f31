"""The output-size calculator of the shapes chapter (`docs/assets/calculator.js`), in Chromium.

The script runs in a blank page (no site build): a placeholder, Material's own style sheets for
its colours, and the script. `shapeCalculator.compute` is compared with torch.nn itself on
random stacks of layers, valid and invalid (hypothesis): every output shape, every parameter
count, and, where PyTorch refuses, the same layer, exception class and message. Then the form
once by keyboard, its presets against the package's networks, its words in each language, and
axe-core on the widget in both palettes.
"""

import os
import shutil
import warnings
from collections import Counter
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from labml_resnet import resnet, shapes

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = (ROOT / "docs/assets/calculator.js").read_text(encoding="utf-8")
STYLE = (ROOT / "docs/assets/calculator.css").read_text(encoding="utf-8")
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]


def material_css() -> str:
    # Material's style sheets, for its colour variables in both palettes (`data-md-color-scheme`)
    import material

    folder = Path(material.__file__).parent / "templates/assets/stylesheets"
    return "\n".join(path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.min.css")))


def html(lang: str = "en", scheme: str = "default") -> str:
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>calculator</title>'
            f"<style>{material_css()}</style><style>{STYLE}</style></head>"
            f'<body data-md-color-scheme="{scheme}"><main><article class="md-typeset">'
            f'<p>Before.</p><div class="shape-calculator"></div><p>After.</p></article></main>'
            f"<script>{SCRIPT}</script></body></html>")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM:
        pytest.skip("no Chromium: install Debian's `chromium` (make chromium) or set CHROMIUM")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(browser):
    page = browser.new_page()
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.set_content(html())
    yield page
    # Nothing leaves the page (the inline sheets' own url()s would show here too)
    assert [url for url in requests if not url.startswith(("data:", "about:"))] == []
    page.close()


# ---------------------------------------------------------------------------------------------
# compute() against torch.nn


def build(layer: dict, shape: torch.Size) -> nn.Module:
    """The torch.nn layer that `layer` describes, on an input of `shape` (for the defaults)."""
    kind = layer["type"]
    if kind == "Conv2d":
        in_channels = layer.get("in_channels") or (shape[1] if len(shape) == 4 else shape[-1])
        return nn.Conv2d(in_channels, layer["out_channels"], layer["kernel_size"], stride=layer.get("stride", 1),
                         padding=layer.get("padding", 0), dilation=layer.get("dilation", 1),
                         groups=layer.get("groups", 1), bias=layer.get("bias", True))
    if kind == "MaxPool2d":
        return nn.MaxPool2d(layer["kernel_size"], stride=layer.get("stride"), padding=layer.get("padding", 0),
                            dilation=layer.get("dilation", 1), ceil_mode=layer.get("ceil_mode", False))
    if kind == "AvgPool2d":
        return nn.AvgPool2d(layer["kernel_size"], stride=layer.get("stride"), padding=layer.get("padding", 0),
                            ceil_mode=layer.get("ceil_mode", False))
    if kind == "Flatten":
        return nn.Flatten()
    return nn.Linear(layer.get("in_features") or shape[-1], layer["out_features"], bias=layer.get("bias", True))


def torch_result(size: dict, layers: list[dict]):
    """Each layer's output shape and parameters, and the first error: (index, class, message)."""
    x = torch.zeros(1, size["channels"], size["height"], size["width"])
    rows = []
    for index, layer in enumerate(layers):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "same" padding with an even kernel warns
                module = build(layer, x.shape)
                with torch.no_grad():
                    x = module(x)
        except Exception as error:  # any of PyTorch's exceptions  # noqa: BLE001
            return rows, (index, type(error).__name__, str(error))
        rows.append((list(x.shape), sum(p.numel() for p in module.parameters())))
    return rows, None


def layer_strategy():
    # Mostly the defaults, so that about half of the stacks run; the rest meet PyTorch's checks
    def maybe(strategy):
        return st.one_of(st.none(), strategy)

    conv = st.fixed_dictionaries({
        "type": st.just("Conv2d"), "out_channels": st.sampled_from([1, 2, 3, 4, 6, 8, 12]),
        "kernel_size": st.integers(1, 6), "stride": maybe(st.integers(1, 3)),
        "padding": maybe(st.one_of(st.integers(0, 3), st.sampled_from(["same", "valid"]))),
        "dilation": maybe(st.integers(1, 3)), "groups": st.sampled_from([None, None, None, 1, 2, 3, 4]),
        "bias": st.booleans(), "in_channels": st.sampled_from([None] * 6 + [1, 2, 3, 4, 6, 8]),
    })
    pool = st.fixed_dictionaries({
        "type": st.sampled_from(["MaxPool2d", "AvgPool2d"]), "kernel_size": st.integers(1, 5),
        "stride": maybe(st.integers(1, 3)), "padding": maybe(st.integers(0, 2)), "dilation": maybe(st.integers(1, 3)),
        "ceil_mode": st.booleans(),
    })
    linear = st.fixed_dictionaries({
        "type": st.just("Linear"), "out_features": st.integers(1, 12), "bias": st.booleans(),
        "in_features": st.sampled_from([None] * 6 + [1, 4, 12, 48]),
    })
    flatten = st.just({"type": "Flatten"})
    # Keys left at None are left out, as an unfilled field of the form is
    return st.one_of(conv, conv, pool, pool, linear, flatten).map(
        lambda layer: {key: value for key, value in layer.items() if value is not None})


SIZES = st.fixed_dictionaries({"height": st.integers(1, 40), "width": st.integers(1, 40), "channels": st.integers(1, 8)})
STACKS = st.lists(layer_strategy(), min_size=1, max_size=6)
seen = Counter()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(size=SIZES, layers=STACKS)
def test_compute_agrees_with_pytorch(page, size, layers):
    for layer in layers:
        if layer["type"] == "AvgPool2d":
            layer.pop("dilation", None)  # nn.AvgPool2d has none
    ours = page.evaluate("([size, layers]) => shapeCalculator.compute(size, layers)", [size, layers])
    rows, error = torch_result(size, layers)
    seen["invalid" if error else "valid"] += 1
    assert [(row["output"], row["params"]) for row in ours["rows"]] == rows
    if error is None:
        assert ours["error"] is None
        assert ours["output"] == (rows[-1][0] if rows else [1, size["channels"], size["height"], size["width"]])
        assert ours["params"] == sum(params for _, params in rows)
    else:
        index, kind, message = error
        assert ours["error"] is not None, f"PyTorch raises {kind}: {message}"
        assert (ours["error"]["index"], ours["error"]["kind"], ours["error"]["message"]) == (index, kind, message)


def test_the_random_stacks_were_valid_and_invalid():
    if not seen:
        pytest.skip("runs after test_compute_agrees_with_pytorch")
    print(dict(seen))
    assert seen["valid"] >= 50 and seen["invalid"] >= 50, seen


@pytest.mark.parametrize("layer, message", [
    ({"type": "Conv2d", "out_channels": 8, "kernel_size": 3, "stride": 2, "padding": "same"},
     "padding='same' is not supported for strided convolutions"),
    ({"type": "Conv2d", "out_channels": 8, "kernel_size": 3, "groups": 2}, "in_channels must be divisible by groups"),
    ({"type": "Conv2d", "out_channels": 8, "kernel_size": 9}, None),  # larger than the 8×8 input
    ({"type": "MaxPool2d", "kernel_size": 9}, None),
    ({"type": "Linear", "out_features": 10, "in_features": 12}, None),  # on the last side, 8
])
def test_the_errors_the_issue_names(page, layer, message):
    size = {"height": 8, "width": 8, "channels": 3}
    ours = page.evaluate("([size, layers]) => shapeCalculator.compute(size, layers)", [size, [layer]])
    _, error = torch_result(size, [layer])
    assert error is not None and ours["error"]["message"] == error[2]
    assert message is None or message == error[2]


def test_non_square_and_tuples(page):
    # (H, W) pairs, as PyTorch takes them
    layers = [{"type": "Conv2d", "out_channels": 4, "kernel_size": [3, 5], "stride": [2, 1], "padding": [1, 2]},
              {"type": "MaxPool2d", "kernel_size": [2, 3], "ceil_mode": True}]
    ours = page.evaluate("([size, layers]) => shapeCalculator.compute(size, layers)",
                         [{"height": 31, "width": 17, "channels": 3}, layers])
    x = torch.zeros(1, 3, 31, 17)
    conv = nn.Conv2d(3, 4, (3, 5), stride=(2, 1), padding=(1, 2))
    pooled = nn.MaxPool2d((2, 3), ceil_mode=True)(conv(x))
    assert [row["output"] for row in ours["rows"]] == [list(conv(x).shape), list(pooled.shape)]
    assert ours["rows"][0]["code"] == "nn.Conv2d(3, 4, kernel_size=(3, 5), stride=(2, 1), padding=(1, 2))"


# ---------------------------------------------------------------------------------------------
# The presets are the package's networks


def layers_of(module: nn.Module) -> list[dict]:
    # The calculator's description of a torch.nn stack (ReLUs and batch norms keep the shape: skipped)
    found = []
    for m in module.values() if isinstance(module, dict) else module:
        if isinstance(m, nn.Conv2d):
            found.append({"type": "Conv2d", "out_channels": m.out_channels, "kernel_size": m.kernel_size[0],
                          "stride": m.stride[0], "padding": m.padding[0], "bias": m.bias is not None})
        elif isinstance(m, nn.MaxPool2d):
            found.append({"type": "MaxPool2d", "kernel_size": m.kernel_size, "stride": m.stride, "padding": m.padding})
        elif isinstance(m, nn.Flatten):
            found.append({"type": "Flatten"})
        elif isinstance(m, nn.Linear):
            found.append({"type": "Linear", "out_features": m.out_features})
    return found


def normalized(layers: list[dict]) -> list[dict]:
    # The defaults written out, as `layers_of` writes them
    defaults = {"Conv2d": {"stride": 1, "padding": 0, "bias": True}, "MaxPool2d": {"padding": 0}}
    out = []
    for layer in layers:
        full = {**defaults.get(layer["type"], {}), **layer}
        if layer["type"] == "MaxPool2d" and "stride" not in layer:
            full["stride"] = layer["kernel_size"]
        out.append(full)
    return out


def test_the_presets_are_the_chapters_networks(page):
    presets = page.evaluate("shapeCalculator.PRESETS")
    small = presets["smallCnn"]
    assert small["input"] == {"height": 240, "width": 320, "channels": 3}
    assert normalized(small["layers"]) == layers_of(shapes.small_cnn())
    stem = presets["resnetStem"]
    assert stem["input"] == {"height": 224, "width": 224, "channels": 3}
    assert normalized(stem["layers"]) == layers_of(resnet.imagenet_stem())
    # And the calculator says what the chapter's table and ResNet-18's trace say
    ours = page.evaluate("p => shapeCalculator.compute(p.input, p.layers)", small)
    assert ours["rows"][-1]["in_features"] == shapes.small_cnn().fc.in_features == 128 * 13 * 18
    ours = page.evaluate("p => shapeCalculator.compute(p.input, p.layers)", stem)
    assert ours["output"] == [1, 64, 56, 56] and ours["params"] == 64 * 3 * 7 * 7


# ---------------------------------------------------------------------------------------------
# The form


@pytest.fixture
def fresh(browser):
    pages = []

    def open_page(lang: str = "en", scheme: str = "default"):
        page = browser.new_page()
        page.set_content(html(lang, scheme))
        pages.append(page)
        return page

    yield open_page
    for page in pages:
        page.close()


def table(page) -> list[list[str]]:
    return page.locator(".shape-calculator table tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.cells].map(c => c.textContent))")


def test_the_form_by_keyboard(fresh):
    page = fresh()
    calc = page.locator(".shape-calculator")
    # It starts with the chapter's small CNN on a 240 × 320 photo
    assert table(page)[-1] == ["10", "nn.Linear(29952, 10)", "10", "299,530"]
    # Exercise 4 of the chapter: 640 × 480 photos. Type into the fields, Tab between them
    height = calc.get_by_label("Height H")
    height.focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("480")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.input") == "width"
    page.keyboard.press("Control+A")
    page.keyboard.type("640")
    page.keyboard.press("Enter")  # submits the form: nothing leaves the page
    assert page.url == "about:blank"
    rows = table(page)
    assert rows[-3][2] == "128 × 28 × 38" and rows[-1][1] == "nn.Linear(136192, 10)"
    # A layer more, by keyboard: the button, then the new layer's type
    calc.get_by_role("button", name="Add a layer").focus()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.dataset.field") == "type"
    assert page.evaluate("document.activeElement.closest('fieldset').querySelector('legend').textContent") == "Layer 11"
    page.keyboard.press("End")  # the last type, Linear
    layer = calc.locator("fieldset.sc-layer").nth(10)
    assert layer.locator("select").input_value() == "Linear"
    assert page.evaluate("document.activeElement.dataset.field") == "type"
    page.keyboard.press("Tab")
    page.keyboard.press("Control+A")
    page.keyboard.type("3")
    assert table(page)[-1] == ["11", "nn.Linear(10, 3)", "3", "33"]
    # An error, read out by the live region: groups that do not divide the channels
    groups = calc.locator("fieldset.sc-layer").nth(0).get_by_label("groups", exact=True)
    groups.fill("3")
    status = calc.get_by_role("status")
    assert status.text_content() == ("Layer 1 (Conv2d): PyTorch raises ValueError: "
                                     "out_channels must be divisible by groups")
    assert len(table(page)) == 1  # the input row only
    groups.fill("1")
    assert status.text_content() == ""
    # Remove a layer by keyboard: the focus moves to the next layer
    calc.get_by_role("button", name="Remove layer 11").focus()
    page.keyboard.press("Enter")
    assert calc.locator("fieldset.sc-layer").count() == 10
    assert page.evaluate("document.activeElement.closest('fieldset').querySelector('legend').textContent") == "Layer 10"


def test_the_presets_by_keyboard(fresh):
    page = fresh()
    calc = page.locator(".shape-calculator")
    calc.get_by_role("button", name="ResNet-18's stem (224 × 224)").focus()
    page.keyboard.press("Enter")
    assert table(page) == [
        ["input", "", "3 × 224 × 224", ""],
        ["1", "nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)", "64 × 112 × 112", "9,408"],
        ["2", "nn.MaxPool2d(kernel_size=3, stride=2, padding=1)", "64 × 56 × 56", "0"],
    ]
    assert calc.get_by_label("Height H").input_value() == "224"
    assert "in_features=64·56·56 = 200,704" in calc.locator(".sc-note").text_content()
    calc.get_by_role("button", name="This chapter's small CNN (240 × 320 photos)").click()
    assert table(page)[-2] == ["9", "nn.Flatten()", "29952", "0"]


@pytest.mark.parametrize("lang, title, height, error", [
    ("en", "Output-size calculator", "Height H", "Layer 1 (Conv2d): PyTorch raises ValueError: "),
    ("ja", "出力サイズ計算機", "高さ H", "第 1 層（Conv2d）で PyTorch は ValueError を送出する："),
    ("zh", "输出尺寸计算器", "高 H", "第 1 层（Conv2d）：PyTorch 会抛出 ValueError："),
])
def test_the_words_follow_the_page_language(fresh, lang, title, height, error):
    page = fresh(lang)
    calc = page.locator(".shape-calculator")
    assert calc.locator(".sc-title").text_content() == title
    assert calc.get_by_label(height).input_value() == "240"
    words = page.evaluate(f"shapeCalculator.WORDS.{lang}")
    assert set(words) == set(page.evaluate("shapeCalculator.WORDS.en"))
    assert calc.locator("caption").text_content() == words["caption"]
    calc.locator("fieldset.sc-layer").nth(0).get_by_label("groups", exact=True).fill("3")
    assert calc.get_by_role("status").text_content().startswith(error)


@pytest.mark.parametrize("scheme", ["default", "slate"])
def test_axe_finds_nothing_in_the_widget(fresh, scheme):
    from axe_playwright_python.sync_playwright import Axe

    page = fresh("en", scheme)
    calc = page.locator(".shape-calculator")
    page.evaluate(Axe().axe_script)
    for state in ("results", "error"):
        if state == "error":
            calc.locator("fieldset.sc-layer").nth(0).get_by_label("groups", exact=True).fill("3")
        violations = page.evaluate("() => axe.run('.shape-calculator', {resultTypes: ['violations']})")["violations"]
        assert [(v["id"], v["impact"], v["nodes"][0]["html"][:120]) for v in violations] == [], (scheme, state)
