// The output-size calculator of the shapes chapter (labml_resnet/shapes.py, "Try your own
// layers"). It fills every <div class="shape-calculator"></div> on the page with a form: an input
// size and a stack of layers, and under it a table of each layer's output shape and parameters.
//
// `shapeCalculator.compute(input, layers)` is the whole computation, with no page in it:
// PyTorch's own rules and, where PyTorch refuses a layer, PyTorch's own error message.
// tests/test_calculator.py runs it in Chromium on random stacks and compares every shape,
// parameter count and error with what torch.nn does.
//
// The words of the form come from WORDS, in the page's language (<html lang>: ja, zh, else en).
// No request leaves the page.
(function () {
  "use strict";

  // ---------------------------------------------------------------------------------------------
  // The computation

  // An error PyTorch would raise: its class (`ValueError`, `RuntimeError`, …) and its message
  class TorchError extends Error {
    constructor(kind, message) {
      super(message);
      this.kind = kind;
    }
  }

  // A number the form cannot use (a blank channel count, 2.5 pixels): not PyTorch's to say
  class InputError extends Error {
    constructor(field, min) {
      super(`${field} must be a whole number of at least ${min}`);
      this.field = field;
      this.min = min;
    }
  }

  const absent = (value) => value === null || value === undefined || value === "";

  function whole(value, field, min) {
    if (!Number.isInteger(value) || value < min) throw new InputError(field, min);
    return value;
  }

  // PyTorch takes `3` or `(3, 5)` for (height, width)
  function pair(value, field, min) {
    const [h, w] = Array.isArray(value) ? value : [value, value];
    return [whole(h, field, min), whole(w, field, min)];
  }

  const product = (numbers) => numbers.reduce((a, b) => a * b, 1);
  const sizes = (shape) => `[${shape.join(", ")}]`;

  function conv2d(shape, layer) {
    // nn.Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True)
    const inChannels = absent(layer.in_channels) ? shape.length === 4 ? shape[1] : shape[shape.length - 1]
      : whole(layer.in_channels, "in_channels", 1);
    const outChannels = whole(layer.out_channels, "out_channels", 1);
    const [kh, kw] = pair(layer.kernel_size, "kernel_size", 1);
    const [sh, sw] = pair(absent(layer.stride) ? 1 : layer.stride, "stride", 1);
    const [dh, dw] = pair(absent(layer.dilation) ? 1 : layer.dilation, "dilation", 1);
    const groups = absent(layer.groups) ? 1 : whole(layer.groups, "groups", 1);
    const padding = absent(layer.padding) ? 0 : layer.padding;
    const bias = layer.bias !== false;
    // What the constructor checks, in its order
    if (inChannels % groups) throw new TorchError("ValueError", "in_channels must be divisible by groups");
    if (outChannels % groups) throw new TorchError("ValueError", "out_channels must be divisible by groups");
    let pads;
    if (typeof padding === "string") {
      if (padding !== "same" && padding !== "valid") {
        throw new TorchError("ValueError", `Invalid padding string '${padding}', should be one of {'valid', 'same'}`);
      }
      if (padding === "same" && (sh !== 1 || sw !== 1)) {
        throw new TorchError("ValueError", "padding='same' is not supported for strided convolutions");
      }
      // "same" pads d(k − 1) in all along each side; "valid" is 0
      pads = padding === "valid" ? [0, 0] : null;
    } else {
      pads = pair(padding, "padding", 0);
    }
    // What the forward pass checks
    if (shape.length !== 4) {
      throw new TorchError("RuntimeError",
        `Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: ${sizes(shape)}`);
    }
    const [, channels, height, width] = shape;
    if (channels !== inChannels) {
      // With "same" and an odd total padding, PyTorch first pads the extra pixel (bottom, right)
      // and then checks: the message shows that padded input
      const seen = pads === null ? [shape[0], channels, height + (dh * (kh - 1)) % 2, width + (dw * (kw - 1)) % 2]
        : shape;
      throw new TorchError("RuntimeError", `Given groups=${groups}, weight of size ` +
        `${sizes([outChannels, inChannels / groups, kh, kw])}, expected input${sizes(seen)} to have ` +
        `${inChannels} channels, but got ${channels} channels instead`);
    }
    // One window spans d(k − 1) + 1 pixels
    const [eh, ew] = [dh * (kh - 1) + 1, dw * (kw - 1) + 1];
    let out;
    if (pads === null) {
      out = [height, width];
    } else {
      const [ph, pw] = [height + 2 * pads[0], width + 2 * pads[1]];
      if (ph < eh || pw < ew) {
        throw new TorchError("RuntimeError", `Calculated padded input size per channel: (${ph} x ${pw}). ` +
          `Kernel size: (${eh} x ${ew}). Kernel size can't be greater than actual input size`);
      }
      // ⌊(n + 2p − d(k − 1) − 1) / s⌋ + 1
      out = [Math.floor((ph - eh) / sh) + 1, Math.floor((pw - ew) / sw) + 1];
    }
    return {
      output: [shape[0], outChannels, ...out],
      params: outChannels * (inChannels / groups) * kh * kw + (bias ? outChannels : 0),
      code: call("nn.Conv2d", [inChannels, outChannels], [
        ["kernel_size", layer.kernel_size], ["stride", layer.stride, 1], ["padding", padding, 0],
        ["dilation", layer.dilation, 1], ["groups", layer.groups, 1], ["bias", bias, true]]),
      in_channels: inChannels,
    };
  }

  // One side of a pooling layer's output, as ATen's pooling_output_shape computes it
  function poolSide(n, k, p, s, d, ceil) {
    if (p > Math.floor(((k - 1) * d + 1) / 2)) {
      throw new TorchError("RuntimeError",
        `pad should be at most half of effective kernel size, but got pad=${p}, kernel_size=${k} and dilation=${d}`);
    }
    let out = Math.floor((n + 2 * p - d * (k - 1) - 1 + (ceil ? s - 1 : 0)) / s) + 1;
    // With ceil_mode the last window must start inside the input (or its left padding)
    if (ceil && (out - 1) * s >= n + p) out -= 1;
    return out;
  }

  function pool2d(kind) {
    return (shape, layer) => {
      // nn.MaxPool2d(kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False);
      // nn.AvgPool2d has no dilation. The stride defaults to the kernel size.
      const [kh, kw] = pair(layer.kernel_size, "kernel_size", 1);
      const [sh, sw] = absent(layer.stride) ? [kh, kw] : pair(layer.stride, "stride", 1);
      const [ph, pw] = pair(absent(layer.padding) ? 0 : layer.padding, "padding", 0);
      const [dh, dw] = kind === "MaxPool2d" ? pair(absent(layer.dilation) ? 1 : layer.dilation, "dilation", 1)
        : [1, 1];
      const ceil = layer.ceil_mode === true;
      if (shape.length !== 4) {
        if (kind === "MaxPool2d") {
          throw new TorchError("RuntimeError", "non-empty 3D or 4D (batch mode) tensor expected for input");
        }
        throw new TorchError("IndexError", "Dimension out of range (expected to be in range of [-2, 1], but got -3)");
      }
      const [, channels, height, width] = shape;
      const outH = poolSide(height, kh, ph, sh, dh, ceil);
      const outW = poolSide(width, kw, pw, sw, dw, ceil);
      if (Math.floor(kw / 2) < pw || Math.floor(kh / 2) < ph) {
        throw new TorchError("RuntimeError", "pad should be smaller than or equal to half of kernel size, " +
          `but got padW = ${pw}, padH = ${ph}, kW = ${kw}, kH = ${kh}`);
      }
      if (outH < 1 || outW < 1) {
        throw new TorchError("RuntimeError", `Given input size: (${channels}x${height}x${width}). ` +
          `Calculated output size: (${channels}x${outH}x${outW}). Output size is too small`);
      }
      const options = [["kernel_size", layer.kernel_size], ["stride", layer.stride], ["padding", layer.padding, 0]];
      if (kind === "MaxPool2d") options.push(["dilation", layer.dilation, 1]);
      options.push(["ceil_mode", ceil, false]);
      return { output: [shape[0], channels, outH, outW], params: 0, code: call(`nn.${kind}`, [], options) };
    };
  }

  function flatten(shape) {
    // nn.Flatten() keeps the batch dimension: [B, C, H, W] → [B, C · H · W]
    return { output: [shape[0], product(shape.slice(1))], params: 0, code: "nn.Flatten()" };
  }

  function linear(shape, layer) {
    // nn.Linear(in_features, out_features, bias=True), on the last dimension of its input
    const last = shape[shape.length - 1];
    const inFeatures = absent(layer.in_features) ? last : whole(layer.in_features, "in_features", 1);
    const outFeatures = whole(layer.out_features, "out_features", 1);
    const bias = layer.bias !== false;
    if (last !== inFeatures) {
      throw new TorchError("RuntimeError", `mat1 and mat2 shapes cannot be multiplied ` +
        `(${product(shape.slice(0, -1))}x${last} and ${inFeatures}x${outFeatures})`);
    }
    return {
      output: [...shape.slice(0, -1), outFeatures],
      params: inFeatures * outFeatures + (bias ? outFeatures : 0),
      code: call("nn.Linear", [inFeatures, outFeatures], [["bias", bias, true]]),
      in_features: inFeatures,
    };
  }

  const LAYERS = { Conv2d: conv2d, MaxPool2d: pool2d("MaxPool2d"), AvgPool2d: pool2d("AvgPool2d"),
                   Flatten: flatten, Linear: linear };

  // The layer as PyTorch code: `nn.Conv2d(3, 16, kernel_size=3, padding=1)`. `options` are
  // [name, value, default] and are left out where the value is the default or not given.
  function call(name, args, options) {
    const python = (v) => typeof v === "string" ? `"${v}"` : v === true ? "True" : v === false ? "False"
      : Array.isArray(v) ? `(${v.join(", ")})` : String(v);
    const parts = args.map(String);
    for (const [key, value, fallback] of options) {
      if (!absent(value) && value !== fallback) parts.push(`${key}=${python(value)}`);
    }
    return `${name}(${parts.join(", ")})`;
  }

  // `input` is {height, width, channels}; `layers` a list of {type: "Conv2d" | "MaxPool2d" |
  // "AvgPool2d" | "Flatten" | "Linear", and the layer's arguments by their PyTorch names}. A
  // missing `in_channels` / `in_features` is what the layer before gives. Returns one row per
  // layer that PyTorch would run ({type, input, output, params, code, in_channels | in_features};
  // shapes with the batch dimension, 1), the last shape, the parameters in all, and the first
  // error: {index (of the layer, -1 for the input), kind, message, field?, min?}.
  function compute(input, layers) {
    const result = { rows: [], output: null, params: 0, error: null };
    let shape;
    try {
      shape = [1, whole(input.channels, "channels", 1), whole(input.height, "height", 1),
               whole(input.width, "width", 1)];
    } catch (error) {
      result.error = describe(error, -1);
      return result;
    }
    result.output = shape;
    for (const [index, layer] of layers.entries()) {
      try {
        const make = LAYERS[layer.type];
        if (!make) throw new TorchError("ValueError", `unknown layer type ${layer.type}`);
        const row = { index, type: layer.type, input: shape, ...make(shape, layer) };
        result.rows.push(row);
        result.params += row.params;
        shape = result.output = row.output;
      } catch (error) {
        result.error = describe(error, index);
        return result;
      }
    }
    return result;
  }

  function describe(error, index) {
    if (error instanceof TorchError) return { index, kind: error.kind, message: error.message };
    if (error instanceof InputError) {
      return { index, kind: "input", message: error.message, field: error.field, min: error.min };
    }
    throw error;
  }

  // ---------------------------------------------------------------------------------------------
  // The words, per language ({n}, {name} and the like are filled in)

  const WORDS = {
    en: {
      title: "Output-size calculator",
      input: "Input",
      height: "Height H",
      width: "Width W",
      channels: "Channels C",
      presets: "Start from",
      smallCnn: "This chapter's small CNN (240 × 320 photos)",
      resnetStem: "ResNet-18's stem (224 × 224)",
      layers: "Layers",
      layer: "Layer {n}",
      type: "Type",
      hint: "Each field is the PyTorch argument of that name. Left blank, it takes PyTorch's default: " +
        "in_channels and in_features what the layer before gives, a pooling layer's stride its kernel_size. " +
        "padding also takes same or valid.",
      failed: "error",
      add: "Add a layer",
      up: "Up", upLabel: "Move layer {n} up",
      down: "Down", downLabel: "Move layer {n} down",
      remove: "Remove", removeLabel: "Remove layer {n}",
      caption: "Each layer's output, with a batch of 1",
      index: "#",
      code: "Layer in PyTorch",
      shape: "Output shape",
      params: "Parameters",
      inputRow: "input",
      total: "Total",
      needsFlat: "A Linear after the last layer needs in_features={n}.",
      needsMap: "After nn.Flatten(), a Linear needs in_features={c}·{h}·{w} = {n}.",
      torchError: "Layer {n} ({type}): PyTorch raises {kind}: {message}",
      inputError: "{where}: {field} must be a whole number of at least {min}.",
      theInput: "Input",
    },
    ja: {
      title: "出力サイズ計算機",
      input: "入力",
      height: "高さ H",
      width: "幅 W",
      channels: "チャネル数 C",
      presets: "ひな形",
      smallCnn: "この章の小さな CNN（240 × 320 の写真）",
      resnetStem: "ResNet-18 のステム（224 × 224）",
      layers: "層",
      layer: "第 {n} 層",
      type: "種類",
      hint: "各欄は同じ名前の PyTorch の引数である。空欄なら PyTorch のデフォルト値になる。" +
        "in_channels と in_features は前の層が出すもの、プーリング層の stride は kernel_size である。" +
        "padding には same や valid も書ける。",
      failed: "エラー",
      add: "層を追加",
      up: "上へ", upLabel: "第 {n} 層を上へ",
      down: "下へ", downLabel: "第 {n} 層を下へ",
      remove: "削除", removeLabel: "第 {n} 層を削除",
      caption: "各層の出力（バッチサイズ 1）",
      index: "#",
      code: "PyTorch の層",
      shape: "出力の形状",
      params: "パラメータ数",
      inputRow: "入力",
      total: "合計",
      needsFlat: "最後の層の後に置く Linear には in_features={n} が必要である。",
      needsMap: "nn.Flatten() の後に置く Linear には in_features={c}·{h}·{w} = {n} が必要である。",
      torchError: "第 {n} 層（{type}）で PyTorch は {kind} を送出する：{message}",
      inputError: "{where}：{field} は {min} 以上の整数でなければならない。",
      theInput: "入力",
    },
    zh: {
      title: "输出尺寸计算器",
      input: "输入",
      height: "高 H",
      width: "宽 W",
      channels: "通道数 C",
      presets: "从示例开始",
      smallCnn: "本章的小型 CNN（240 × 320 的照片）",
      resnetStem: "ResNet-18 的起始层（224 × 224）",
      layers: "层",
      layer: "第 {n} 层",
      type: "类型",
      hint: "每一栏都是同名的 PyTorch 参数。留空则取 PyTorch 的默认值：" +
        "in_channels 和 in_features 取上一层给出的数，池化层的 stride 等于 kernel_size。" +
        "padding 也可以填 same 或 valid。",
      failed: "出错",
      add: "添加一层",
      up: "上移", upLabel: "将第 {n} 层上移",
      down: "下移", downLabel: "将第 {n} 层下移",
      remove: "删除", removeLabel: "删除第 {n} 层",
      caption: "每一层的输出（批量大小为 1）",
      index: "#",
      code: "PyTorch 中的层",
      shape: "输出形状",
      params: "参数量",
      inputRow: "输入",
      total: "总计",
      needsFlat: "在最后一层之后接的 Linear 需要 in_features={n}。",
      needsMap: "在 nn.Flatten() 之后接的 Linear 需要 in_features={c}·{h}·{w} = {n}。",
      torchError: "第 {n} 层（{type}）：PyTorch 会抛出 {kind}：{message}",
      inputError: "{where}：{field} 必须是不小于 {min} 的整数。",
      theInput: "输入",
    },
  };

  function language() {
    const lang = (document.documentElement.lang || "en").toLowerCase();
    return lang.startsWith("ja") ? "ja" : lang.startsWith("zh") ? "zh" : "en";
  }

  const fill = (text, values) => text.replace(/\{(\w+)\}/g, (_, key) => String(values[key]));
  const number = (n) => n.toLocaleString("en-US");

  // ---------------------------------------------------------------------------------------------
  // The presets and the fields of each kind of layer

  const PRESETS = {
    // labml_resnet/shapes.py, `small_cnn` (ReLUs keep the shape and are left out)
    smallCnn: {
      input: { height: 240, width: 320, channels: 3 },
      layers: [
        { type: "Conv2d", out_channels: 16, kernel_size: 3, padding: 1 },
        { type: "MaxPool2d", kernel_size: 2 },
        { type: "Conv2d", out_channels: 32, kernel_size: 5 },
        { type: "MaxPool2d", kernel_size: 2 },
        { type: "Conv2d", out_channels: 64, kernel_size: 5 },
        { type: "MaxPool2d", kernel_size: 2 },
        { type: "Conv2d", out_channels: 128, kernel_size: 3, padding: 1 },
        { type: "MaxPool2d", kernel_size: 2 },
        { type: "Flatten" },
        { type: "Linear", out_features: 10 },
      ],
    },
    // labml_resnet/resnet.py, `imagenet_stem`: conv1 (224 → 112) and maxpool (112 → 56)
    resnetStem: {
      input: { height: 224, width: 224, channels: 3 },
      layers: [
        { type: "Conv2d", out_channels: 64, kernel_size: 7, stride: 2, padding: 3, bias: false },
        { type: "MaxPool2d", kernel_size: 3, stride: 2, padding: 1 },
      ],
    },
  };

  // Per type: the fields, by their PyTorch names, and the kind of control ("number" may be blank)
  const FIELDS = {
    Conv2d: [["out_channels", "number"], ["kernel_size", "number"], ["stride", "number"], ["padding", "padding"],
             ["dilation", "number"], ["groups", "number"], ["in_channels", "number"], ["bias", "checkbox"]],
    MaxPool2d: [["kernel_size", "number"], ["stride", "number"], ["padding", "number"], ["dilation", "number"],
                ["ceil_mode", "checkbox"]],
    AvgPool2d: [["kernel_size", "number"], ["stride", "number"], ["padding", "number"], ["ceil_mode", "checkbox"]],
    Flatten: [],
    Linear: [["out_features", "number"], ["in_features", "number"], ["bias", "checkbox"]],
  };
  const NEW_LAYER = {
    Conv2d: { out_channels: 16, kernel_size: 3, stride: 1, padding: 1, dilation: 1, groups: 1, bias: true },
    MaxPool2d: { kernel_size: 2, padding: 0, dilation: 1, ceil_mode: false },
    AvgPool2d: { kernel_size: 2, padding: 0, ceil_mode: false },
    Flatten: {},
    Linear: { out_features: 10, bias: true },
  };
  const MINIMUM = { padding: 0 };

  // ---------------------------------------------------------------------------------------------
  // The form

  function element(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes)) {
      if (key === "text") node.textContent = value;
      else if (value !== null && value !== undefined && value !== false) node.setAttribute(key, value === true ? "" : value);
    }
    node.append(...children);
    return node;
  }

  function numberField(labelText, value, attributes = {}) {
    const input = element("input", { type: "number", step: 1, inputmode: "numeric", ...attributes });
    input.value = absent(value) ? "" : String(value);
    const label = typeof labelText === "string" ? element("span", { text: labelText }) : labelText;
    return [element("label", { class: "sc-field" }, label, input), input];
  }

  function readNumber(input) {
    const text = input.value.trim();
    if (text === "") return input.validity && input.validity.badInput ? NaN : null;
    return Number(text);
  }

  function readPadding(text) {
    text = text.trim();
    if (text === "") return null;
    return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
  }

  class Calculator {
    constructor(root) {
      this.root = root;
      this.words = WORDS[language()];
      this.state = structuredClone(PRESETS.smallCnn);
      root.dataset.ready = "true";
      root.replaceChildren();
      this.build();
    }

    build() {
      const w = this.words;
      this.form = element("form", { class: "sc-form", novalidate: true });
      this.form.addEventListener("submit", (event) => {
        event.preventDefault();
        this.update();
      });
      const presets = element("div", { class: "sc-presets", role: "group", "aria-label": w.presets },
        element("span", { class: "sc-presets-label", text: w.presets + ":" }));
      for (const key of Object.keys(PRESETS)) {
        const button = element("button", { type: "button", class: "sc-button", "data-preset": key, text: w[key] });
        button.addEventListener("click", () => this.load(key));
        presets.append(button);
      }
      this.inputs = {};
      const inputSet = element("fieldset", { class: "sc-input" }, element("legend", { text: w.input }));
      for (const field of ["height", "width", "channels"]) {
        const [label, input] = numberField(w[field], this.state.input[field], { min: 1, "data-input": field });
        input.addEventListener("input", () => {
          this.state.input[field] = readNumber(input);
          this.update();
        });
        this.inputs[field] = input;
        inputSet.append(label);
      }
      this.hintId = `sc-hint-${++Calculator.count}`;
      const hint = element("p", { class: "sc-hint", id: this.hintId, text: w.hint });
      this.layerList = element("ol", { class: "sc-layers", "aria-label": w.layers });
      const add = element("button", { type: "button", class: "sc-button sc-add", text: w.add });
      add.addEventListener("click", () => {
        this.state.layers.push({ type: "Conv2d", ...NEW_LAYER.Conv2d });
        this.renderLayers();
        this.focusLayer(this.state.layers.length - 1);
      });
      this.addButton = add;
      // Results: a table, and a live region that reads out errors as they appear
      this.table = element("table", { class: "sc-table" });
      this.note = element("p", { class: "sc-note" });
      this.status = element("div", { class: "sc-status", role: "status", "aria-live": "polite" });
      const title = element("p", { class: "sc-title", text: w.title });
      this.form.append(presets, inputSet, hint, this.layerList, add);
      // The form and the results side by side where there is room (calculator.css)
      const results = element("div", { class: "sc-results" }, this.status,
                              element("div", { class: "sc-table-wrap" }, this.table), this.note);
      this.root.append(title, element("div", { class: "sc-body" }, this.form, results));
      this.renderLayers();
    }

    load(key) {
      this.state = structuredClone(PRESETS[key]);
      for (const [field, input] of Object.entries(this.inputs)) input.value = String(this.state.input[field]);
      this.renderLayers();
    }

    focusLayer(index) {
      const item = this.layerList.children[index];
      (item ? item.querySelector("select") : this.addButton).focus();
    }

    renderLayers() {
      const w = this.words;
      this.layerList.replaceChildren();
      this.state.layers.forEach((layer, index) => {
        const n = index + 1;
        const set = element("fieldset", { class: "sc-layer" }, element("legend", { text: fill(w.layer, { n }) }));
        const select = element("select", { "data-field": "type" });
        for (const type of Object.keys(LAYERS)) {
          select.append(element("option", { value: type, text: type, selected: type === layer.type }));
        }
        select.addEventListener("change", () => {
          this.state.layers[index] = { type: select.value, ...NEW_LAYER[select.value] };
          this.renderLayers();
          this.layerList.children[index].querySelector("select").focus();
        });
        set.append(element("label", { class: "sc-field" }, element("span", { text: w.type }), select));
        for (const [field, control] of FIELDS[layer.type]) set.append(this.control(layer, field, control));
        // This layer's output, as the table below has it
        set.append(element("span", { class: "sc-out" }));
        const actions = element("div", { class: "sc-actions" });
        const buttons = [["up", index > 0, () => this.move(index, -1)],
                         ["down", index < this.state.layers.length - 1, () => this.move(index, 1)],
                         ["remove", true, () => this.remove(index)]];
        for (const [action, enabled, run] of buttons) {
          const button = element("button", { type: "button", class: "sc-button", "data-action": action,
                                             "aria-label": fill(w[action + "Label"], { n }), text: w[action],
                                             disabled: !enabled });
          button.addEventListener("click", run);
          actions.append(button);
        }
        set.append(actions);
        this.layerList.append(element("li", {}, set));
      });
      this.update();
    }

    control(layer, field, control) {
      // The label is the argument's name, as in the code: `kernel_size`
      const labelText = element("code", { text: field });
      if (control === "checkbox") {
        const box = element("input", { type: "checkbox", "data-field": field });
        box.checked = field === "bias" ? layer.bias !== false : layer[field] === true;
        box.addEventListener("change", () => {
          layer[field] = box.checked;
          this.update();
        });
        return element("label", { class: "sc-field sc-check" }, box, labelText);
      }
      if (control === "padding") {
        const input = element("input", { type: "text", "data-field": field, inputmode: "text", autocomplete: "off",
                                         spellcheck: "false", size: 6, "aria-describedby": this.hintId });
        input.value = absent(layer.padding) ? "" : String(layer.padding);
        input.addEventListener("input", () => {
          layer.padding = readPadding(input.value);
          this.update();
        });
        return element("label", { class: "sc-field" }, labelText, input);
      }
      const [label, input] = numberField(labelText, layer[field], { min: MINIMUM[field] ?? 1, "data-field": field,
                                                                    "aria-describedby": this.hintId });
      input.addEventListener("input", () => {
        layer[field] = readNumber(input);
        this.update();
      });
      return label;
    }

    move(index, by) {
      const layers = this.state.layers;
      [layers[index], layers[index + by]] = [layers[index + by], layers[index]];
      this.renderLayers();
      const item = this.layerList.children[index + by];
      const button = item.querySelector(`[data-action="${by < 0 ? "up" : "down"}"]`);
      (button.disabled ? item.querySelector("select") : button).focus();
    }

    remove(index) {
      this.state.layers.splice(index, 1);
      this.renderLayers();
      this.focusLayer(Math.min(index, this.state.layers.length - 1));
    }

    update() {
      const w = this.words;
      const result = compute(this.state.input, this.state.layers);
      const head = element("thead", {}, element("tr", {},
        ...[w.index, w.code, w.shape, w.params].map((text) => element("th", { scope: "col", text }))));
      const body = element("tbody");
      const shapeText = (shape) => shape.slice(1).join(" × ");
      // The input's row: its shape, unless the input itself is what is wrong
      const input = [1, this.state.input.channels, this.state.input.height, this.state.input.width];
      body.append(element("tr", {}, element("th", { scope: "row", text: w.inputRow }), element("td"),
                          element("td", { text: result.error && result.error.index === -1 ? "—" : shapeText(input) }),
                          element("td")));
      for (const row of result.rows) {
        body.append(element("tr", {}, element("th", { scope: "row", text: String(row.index + 1) }),
                            element("td", {}, element("code", { text: row.code })),
                            element("td", { text: shapeText(row.output) }),
                            element("td", { text: number(row.params) })));
      }
      const foot = element("tfoot", {}, element("tr", {}, element("th", { scope: "row", colspan: 3, text: w.total }),
                                                 element("td", { text: number(result.params) })));
      this.table.replaceChildren(element("caption", { text: w.caption }), head, body, foot);
      // Beside each layer, its output
      [...this.layerList.querySelectorAll(".sc-out")].forEach((output, index) => {
        const row = result.rows[index];
        output.textContent = row ? "→ " + shapeText(row.output) : result.error && result.error.index === index
          ? "→ " + w.failed : "";
      });
      // What a Linear after the last layer needs (unless the last layer is one)
      const out = result.output;
      const last = this.state.layers[this.state.layers.length - 1];
      this.note.textContent = result.error || !out || (last && last.type === "Linear") ? "" : out.length === 4
        ? fill(w.needsMap, { c: out[1], h: out[2], w: out[3], n: number(out[1] * out[2] * out[3]) })
        : fill(w.needsFlat, { n: number(out[out.length - 1]) });
      this.status.textContent = result.error ? this.errorText(result.error) : "";
      this.root.classList.toggle("sc-has-error", Boolean(result.error));
    }

    errorText(error) {
      const w = this.words;
      if (error.kind === "input") {
        const where = error.index < 0 ? w.theInput : fill(w.layer, { n: error.index + 1 });
        return fill(w.inputError, { where, field: w[error.field] ?? error.field, min: error.min });
      }
      const layer = this.state.layers[error.index];
      return fill(w.torchError, { n: error.index + 1, type: layer.type, kind: error.kind, message: error.message });
    }
  }

  Calculator.count = 0;

  function start() {
    for (const root of document.querySelectorAll(".shape-calculator:not([data-ready])")) new Calculator(root);
  }

  window.shapeCalculator = { compute, WORDS, PRESETS, start };

  // Material's instant navigation swaps pages without loading them: `document$` says when
  if (typeof document$ !== "undefined" && document$.subscribe) {
    document$.subscribe(start);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
