/*
 * Fetchgate's in-page accessibility checker (axe-core is not reachable from here, so we wrote our own).
 * support/a11y.py runs it in the page under test with driver.execute_script; it returns a list of
 * violations {rule, selector, detail}. It only reads the page, except that rule "focus-visible" moves
 * the focus through every focusable element (and puts it back on <body> at the end).
 *
 * WHAT IT CHECKS (rule names as reported)
 *   label          every visible input (not type=hidden), select, textarea, button and element with a widget
 *                  role (button, link, checkbox, radio, switch, tab, textbox, combobox, slider, menuitem…)
 *                  has an accessible name, taken in this order: aria-labelledby (the referenced elements'
 *                  text), aria-label, <label for> or a wrapping <label> (element.labels), a button's own
 *                  text (text nodes, <img alt>, aria-label of descendants), an <input type=submit|reset>'s
 *                  value or default name, <input type=image>'s alt, and title as the last resort.
 *                  A placeholder is NOT accepted as a name.
 *   image-alt      every visible <img> has an alt attribute (alt="" is accepted: decorative), or
 *                  role=presentation|none, or aria-label / aria-labelledby.
 *   link-name      every visible <a href> has a name (its text, a contained <img alt>, aria-label,
 *                  aria-labelledby, title).
 *   contrast       every visible text node (and the value text of visible inputs, selects and textareas)
 *                  has a contrast ratio of at least 4.5:1 against its effective background, 3:1 for large
 *                  text (font-size >= 24px, or >= 18.66px with font-weight >= 700). The text colour's alpha
 *                  is multiplied by the opacity of the element and its ancestors; the background is found by
 *                  walking up the DOM ancestors and compositing each background-color (with its alpha) over
 *                  the ones below, down to the canvas colour (the Canvas system colour under the root's
 *                  color-scheme). Text inside a disabled control is exempt (WCAG 1.4.3 exempts inactive
 *                  components).
 *   html-lang      <html lang> is set and not empty.
 *   title          document.title is not empty.
 *   main-one       exactly one visible main landmark (<main> or role=main).
 *   banner-nav     at least one visible banner (<header> not inside article/aside/main/nav/section, or
 *                  role=banner) or navigation (<nav>, role=navigation) landmark.
 *   region         no visible text and no visible control outside a landmark (banner, navigation, main,
 *                  contentinfo, complementary, search, form/region with a name, and open dialogs). Skip
 *                  links (a[href^="#"] before any other focusable element) are exempt.
 *   heading-order  there is a visible heading, the first visible heading (h1-h6, role=heading with
 *                  aria-level) is level 1, and no heading goes more than one level deeper than the one
 *                  before it.
 *   duplicate-id   no id is used by two elements.
 *   focus-visible  every visible focusable element (a[href], enabled button/input/select/textarea, summary,
 *                  [tabindex] >= 0, contenteditable) shows a focus indicator when focused: its outline
 *                  (style, width, colour) or box-shadow changes, and the focused state has a visible outline
 *                  (style not none, width >= 1px or style auto, colour not transparent) or a box-shadow.
 *                  Transitions on the element are switched off (through CSSOM) while it is measured.
 *                  While a modal <dialog> is open, only its elements are focusable (the page is inert).
 *   reduced-motion (group "motion", only when asked: the page must be loaded with prefers-reduced-motion:
 *                  reduce emulated) no element has a CSS animation longer than 10 ms or repeating forever,
 *                  no element has a transition longer than 10 ms, and the root does not scroll smoothly.
 *
 * WHAT IT DOES NOT CHECK (known limits; a clean result is not a full WCAG audit)
 *   - Contrast over background images or gradients: text whose background walk meets a background-image
 *     is skipped (not reported). The walk follows DOM ancestors, not paint order, so text placed by
 *     positioning over a sibling's background is judged against its ancestors'. text-shadow, filters,
 *     mix-blend-mode, a modal dialog's ::backdrop (text behind it is judged as if uncovered),
 *     ::before/::after generated text, placeholder text and the colour of focus rings,
 *     borders and icons (non-text contrast, WCAG 1.4.11) are not checked.
 *   - Visually hidden text (clipped to 1px or less, or placed entirely off-screen, like a skip link before
 *     it is focused) is not checked for contrast; the skip link is checked by focus-visible when focused.
 *   - Accessible names are a simplification of the accname spec (no CSS generated content, no embedded
 *     control values, no recursion through aria-labelledby chains); the name is checked for presence,
 *     not for meaning. ARIA validity (allowed roles/attributes, required owned elements), live regions,
 *     tables' header associations, language of parts, keyboard operability (see the keyboard test),
 *     tab order (the keyboard walk covers reachability), target size, zoom/reflow beyond the page
 *     walk's no-horizontal-scroll check, and motion beyond the "motion" group's computed CSS (motion
 *     driven by script, autoplaying media) are not checked.
 *   - Elements inside shadow roots and iframes are not visited. Chromium's own <xslt-warning-banner>
 *     (injected into XSLT-rendered pages) is ignored entirely.
 *
 * Usage (what a11y.py does):  execute_script(<this file> + "return fetchgateA11y().check(arguments[0]);", opts)
 * opts: {rules: [groups]} runs only some groups of rules: "labels" (label, image-alt, link-name),
 * "contrast", "document" (html-lang, title, main-one, banner-nav, region, heading-order, duplicate-id) and
 * "focus" (focus-visible). Default: those four; "motion" (reduced-motion) runs only when named.
 * fetchgateA11y().tabTargets() and .focused() serve a11y.py's keyboard walk (see there).
 */
function fetchgateA11y() {
  "use strict";
  let violations = [];
  const IGNORED = "xslt-warning-banner";

  function ignored(el) {
    return !!(el.closest && el.closest(IGNORED));
  }

  function selectorOf(el) {
    if (!(el instanceof Element)) return String(el);
    const parts = [];
    let node = el;
    while (node && node.nodeType === 1) {
      if (node.id && document.querySelectorAll("#" + CSS.escape(node.id)).length === 1) {
        parts.unshift("#" + CSS.escape(node.id));
        break;
      }
      let part = node.localName;
      if (part === "body" || part === "html") {
        parts.unshift(part);
        break;
      }
      const parent = node.parentElement;
      if (parent) {
        const same = Array.from(parent.children).filter((c) => c.localName === node.localName);
        if (same.length > 1) part += ":nth-of-type(" + (same.indexOf(node) + 1) + ")";
      }
      parts.unshift(part);
      node = parent;
    }
    return parts.join(" > ");
  }

  function report(rule, el, detail) {
    violations.push({ rule: rule, selector: selectorOf(el), detail: detail });
  }

  function visible(el) {
    if (ignored(el)) return false;
    if (!el.checkVisibility({ opacityProperty: true, visibilityProperty: true })) return false;
    return el.getClientRects().length > 0;
  }

  // Shown to a sighted user: visible, larger than a 1px clip, and not entirely off the page.
  function onScreen(el) {
    if (!visible(el)) return false;
    const r = el.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1) return false;
    const left = r.right + window.scrollX, top = r.bottom + window.scrollY;
    return left > 0 && top > 0;
  }

  // ------------------------------------------------------------------ accessible names

  function subtreeText(node) {
    let text = "";
    for (const child of node.childNodes) {
      if (child.nodeType === 3) {
        text += child.textContent;
      } else if (child.nodeType === 1) {
        if (child.getAttribute("aria-hidden") === "true") continue;
        if (getComputedStyle(child).display === "none") continue;
        if (child.hasAttribute("aria-label")) text += " " + child.getAttribute("aria-label") + " ";
        else if (child.localName === "img") text += " " + (child.getAttribute("alt") || "") + " ";
        else text += " " + subtreeText(child) + " ";
      }
    }
    return text;
  }

  function labelledByText(el) {
    const ids = (el.getAttribute("aria-labelledby") || "").split(/\s+/).filter(Boolean);
    return ids.map((id) => {
      const ref = document.getElementById(id);
      return ref ? (ref.getAttribute("aria-label") || subtreeText(ref)) : "";
    }).join(" ");
  }

  function accessibleName(el) {
    const candidates = [];
    candidates.push(labelledByText(el));
    candidates.push(el.getAttribute("aria-label") || "");
    if (el.labels) for (const label of el.labels) candidates.push(subtreeText(label));
    const tag = el.localName;
    const type = (el.getAttribute("type") || "").toLowerCase();
    if (tag === "input" && (type === "submit" || type === "reset" || type === "button")) {
      candidates.push(el.getAttribute("value") || (type === "submit" ? "Submit" : type === "reset" ? "Reset" : ""));
    }
    if (tag === "input" && type === "image") candidates.push(el.getAttribute("alt") || "");
    if (tag === "button" || tag === "a" || tag === "summary" ||
        /^(button|link|tab|menuitem|checkbox|radio|switch|option)$/.test(el.getAttribute("role") || "")) {
      candidates.push(subtreeText(el));
    }
    candidates.push(el.getAttribute("title") || "");
    for (const c of candidates) if (c.trim()) return c.trim();
    return "";
  }

  const CONTROLS = "input:not([type=hidden]), select, textarea, button, [role=button], [role=link], " +
    "[role=checkbox], [role=radio], [role=switch], [role=tab], [role=textbox], [role=combobox], " +
    "[role=slider], [role=spinbutton], [role=menuitem], [role=searchbox], [role=listbox], [role=option]";

  function checkLabels() {
    for (const el of document.querySelectorAll(CONTROLS)) {
      if (!visible(el)) continue;
      if (!accessibleName(el)) report("label", el, "<" + el.localName + "> has no accessible name " +
        "(no label, aria-label, aria-labelledby, text or title)");
    }
    for (const img of document.querySelectorAll("img")) {
      if (!visible(img)) continue;
      const role = img.getAttribute("role");
      if (img.hasAttribute("alt") || role === "presentation" || role === "none" ||
          (img.getAttribute("aria-label") || "").trim() || labelledByText(img).trim()) continue;
      report("image-alt", img, "<img src=" + JSON.stringify(img.getAttribute("src")) + "> has no alt attribute");
    }
    for (const a of document.querySelectorAll("a[href]")) {
      if (!visible(a) && !a.matches(":focus")) continue;
      if (!accessibleName(a)) report("link-name", a, "link to " + JSON.stringify(a.getAttribute("href")) +
        " has no text or name");
    }
  }

  // ------------------------------------------------------------------ contrast

  const probe = document.createElement("canvas").getContext("2d", { willReadFrequently: true });

  function parseColor(text) {
    const m = /^rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:\s*[,/]\s*([\d.]+)(%?))?\s*\)$/.exec(text);
    if (m) {
      let a = m[4] === undefined ? 1 : parseFloat(m[4]);
      if (m[5] === "%") a /= 100;
      return [parseFloat(m[1]), parseFloat(m[2]), parseFloat(m[3]), a];
    }
    if (text === "transparent") return [0, 0, 0, 0];
    // Any other colour function (oklch(), color(), lab()…): let the canvas convert it to sRGB.
    probe.clearRect(0, 0, 1, 1);
    probe.fillStyle = "#000";
    probe.fillStyle = text;
    probe.fillRect(0, 0, 1, 1);
    const d = probe.getImageData(0, 0, 1, 1).data;
    const a = d[3] / 255;
    return a === 0 ? [0, 0, 0, 0] : [d[0], d[1], d[2], a];
  }

  function over(top, bottom) {  // top composited over an opaque bottom
    const a = top[3];
    return [top[0] * a + bottom[0] * (1 - a), top[1] * a + bottom[1] * (1 - a), top[2] * a + bottom[2] * (1 - a), 1];
  }

  function canvasColor() {
    const t = document.createElement("div");
    t.style.backgroundColor = "Canvas";
    document.documentElement.appendChild(t);
    const c = parseColor(getComputedStyle(t).backgroundColor);
    t.remove();
    return c[3] === 0 ? [255, 255, 255, 1] : c;
  }
  const CANVAS = canvasColor();

  // The opaque colour under el's text, or null when a background image is in the way.
  function backgroundOf(el) {
    const layers = [];
    for (let node = el; node; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (style.backgroundImage && style.backgroundImage !== "none") return null;
      const bg = parseColor(style.backgroundColor);
      if (bg[3] > 0) layers.push(bg);
      if (bg[3] >= 1) break;
    }
    let color = CANVAS;
    for (let i = layers.length - 1; i >= 0; i--) color = over(layers[i], color);
    return color;
  }

  function opacityOf(el) {
    let o = 1;
    for (let node = el; node; node = node.parentElement) o *= parseFloat(getComputedStyle(node).opacity);
    return o;
  }

  function luminance(c) {
    const lin = c.slice(0, 3).map((v) => {
      const s = v / 255;
      return s <= 0.04045 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
  }

  function ratio(a, b) {
    const la = luminance(a), lb = luminance(b);
    return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
  }

  const hex = (c) => "#" + c.slice(0, 3).map((v) => Math.round(v).toString(16).padStart(2, "0")).join("");

  function checkContrastOf(el, sample) {
    if (el.closest(":disabled")) return;
    const bg = backgroundOf(el);
    if (!bg) return;
    const style = getComputedStyle(el);
    const fg0 = parseColor(style.color);
    const fg = over([fg0[0], fg0[1], fg0[2], fg0[3] * opacityOf(el)], bg);
    const size = parseFloat(style.fontSize);
    const bold = parseInt(style.fontWeight, 10) >= 700;
    const large = size >= 24 || (size >= 18.66 && bold);
    const need = large ? 3 : 4.5;
    const got = ratio(fg, bg);
    if (got + 1e-6 < need) {
      report("contrast", el, "contrast " + got.toFixed(2) + ":1 < " + need + ":1 (text " + hex(fg) + " on " +
        hex(bg) + ", " + size + "px" + (bold ? " bold" : "") + ", " + JSON.stringify(sample.trim().slice(0, 40)) + ")");
    }
  }

  function checkContrast() {
    const seen = new Set();
    const walker = document.createTreeWalker(document.body || document.documentElement, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent.trim()) continue;
      const el = node.parentElement;
      if (!el || seen.has(el) || /^(script|style|noscript|template|title|option)$/.test(el.localName)) continue;
      seen.add(el);
      if (!onScreen(el)) continue;
      checkContrastOf(el, node.textContent);
    }
    for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
      const type = (el.getAttribute("type") || "text").toLowerCase();
      if (/^(checkbox|radio|range|color|file|image)$/.test(type) && el.localName === "input") continue;
      if (!onScreen(el) || seen.has(el)) continue;
      const text = el.localName === "select" ? (el.selectedOptions[0] || { text: "" }).text : el.value;
      if (text && text.trim()) checkContrastOf(el, text);
    }
  }

  // ------------------------------------------------------------------ structure

  const LANDMARK_ROLES = /^(banner|navigation|main|contentinfo|complementary|search|region|form|dialog|alertdialog)$/;

  function isLandmark(el) {
    const role = el.getAttribute("role");
    if (role) {
      if (!LANDMARK_ROLES.test(role)) return false;
      if (role === "region" || role === "form") return !!accessibleName(el);
      return true;
    }
    switch (el.localName) {
      case "main": case "nav": case "aside": case "search": return true;
      case "header": case "footer":
        return !el.parentElement.closest("article, aside, main, nav, section");
      case "section": case "form":
        return !!((el.getAttribute("aria-label") || "").trim() || labelledByText(el).trim());
      case "dialog": return el.open;
      default: return false;
    }
  }

  function inLandmark(el) {
    for (let node = el; node; node = node.parentElement) if (isLandmark(node)) return true;
    return false;
  }

  const FOCUSABLE = "a[href], button:not(:disabled), input:not(:disabled):not([type=hidden]), " +
    "select:not(:disabled), textarea:not(:disabled), summary, [tabindex], [contenteditable=''], " +
    "[contenteditable=true]";

  // Elements in the tab order; with `natives`, native controls taken out of it (tabindex=-1) too.
  function focusables(natives) {
    return Array.from(document.querySelectorAll(FOCUSABLE)).filter((el) =>
      !ignored(el) && !el.closest("[inert]") &&
      (el.tabIndex >= 0 || (natives && el.matches("a[href], button, input, select, textarea, summary"))) &&
      !(el.localName === "summary" && el.parentElement.localName !== "details"));
  }

  // What can take the focus now: while a modal dialog is open, only its elements (the page is inert).
  function reachable(natives) {
    const modal = document.querySelector("dialog:modal");
    return focusables(natives).filter((el) => !modal || modal.contains(el));
  }

  function skipLinks() {
    const skip = new Set();
    for (const el of focusables()) {
      if (el.localName === "a" && (el.getAttribute("href") || "").startsWith("#") &&
          !(el.getAttribute("href") || "").startsWith("#/")) skip.add(el);
      else break;
    }
    return skip;
  }

  function checkDocument() {
    if (!(document.documentElement.getAttribute("lang") || "").trim()) {
      report("html-lang", document.documentElement, "<html> has no lang attribute");
    }
    if (!document.title.trim()) report("title", document.documentElement, "the document has no <title>");

    const mains = Array.from(document.querySelectorAll("main, [role=main]")).filter(visible);
    if (mains.length !== 1) {
      report("main-one", mains[1] || document.body || document.documentElement,
        "expected exactly one visible main landmark, found " + mains.length);
    }
    const tops = Array.from(document.querySelectorAll("header, [role=banner], nav, [role=navigation]"))
      .filter((el) => visible(el) && isLandmark(el));
    if (!tops.length) {
      report("banner-nav", document.body || document.documentElement, "no visible banner (<header>) or <nav> landmark");
    }

    const skip = skipLinks();
    const outside = new Set();
    const walker = document.createTreeWalker(document.body || document.documentElement, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const el = node.parentElement;
      if (!node.textContent.trim() || !el || /^(script|style|noscript|template)$/.test(el.localName)) continue;
      if (outside.has(el) || !visible(el) || el.closest("a") && skip.has(el.closest("a"))) continue;
      if (!inLandmark(el)) {
        outside.add(el);
        report("region", el, "text outside any landmark: " + JSON.stringify(node.textContent.trim().slice(0, 40)));
      }
    }
    for (const el of document.querySelectorAll(CONTROLS + ", a[href], img")) {
      if (outside.has(el) || skip.has(el) || !visible(el) || inLandmark(el)) continue;
      report("region", el, "<" + el.localName + "> outside any landmark");
    }

    let previous = 0;
    for (const h of document.querySelectorAll("h1, h2, h3, h4, h5, h6, [role=heading]")) {
      if (!visible(h)) continue;
      const level = h.getAttribute("role") === "heading" ? parseInt(h.getAttribute("aria-level") || "2", 10)
        : parseInt(h.localName.slice(1), 10);
      if (previous === 0 && level !== 1) {
        report("heading-order", h, "the first heading is h" + level + ", not h1");
      } else if (previous && level > previous + 1) {
        report("heading-order", h, "h" + level + " follows h" + previous + " (skips a level)");
      }
      previous = level;
    }
    if (previous === 0) report("heading-order", document.body || document.documentElement, "no visible heading (no h1)");

    const ids = new Map();
    for (const el of document.querySelectorAll("[id]")) {
      if (ignored(el)) continue;
      ids.set(el.id, (ids.get(el.id) || 0) + 1);
    }
    for (const [id, count] of ids) {
      if (count > 1) report("duplicate-id", document.querySelectorAll("[id='" + CSS.escape(id) + "']")[1],
        "id " + JSON.stringify(id) + " is used by " + count + " elements");
    }
  }

  // ------------------------------------------------------------------ focus

  function ringOf(el) {
    const s = getComputedStyle(el);
    return { outline: s.outlineStyle + " " + s.outlineWidth + " " + s.outlineColor + " " + s.outlineOffset,
             outlineStyle: s.outlineStyle, outlineWidth: parseFloat(s.outlineWidth),
             outlineColor: parseColor(s.outlineColor), shadow: s.boxShadow };
  }

  function indicatorShown(before, after) {
    const changed = before.outline !== after.outline || before.shadow !== after.shadow;
    const outline = after.outlineStyle !== "none" && after.outlineColor[3] > 0 &&
      (after.outlineStyle === "auto" || after.outlineWidth >= 1);
    const shadow = after.shadow !== "none" && after.shadow !== before.shadow;
    return changed && (outline || shadow);
  }

  function checkFocus() {
    const skip = skipLinks();
    const previous = document.activeElement;
    for (const el of reachable(false)) {
      if (!visible(el) && !skip.has(el)) continue;
      const transition = el.style.transition;
      el.style.transition = "none";
      if (document.activeElement === el) el.blur();
      const before = ringOf(el);
      el.focus({ focusVisible: true });
      if (document.activeElement !== el) {
        report("focus-visible", el, "<" + el.localName + "> is focusable but focus() did not focus it");
      } else {
        const after = ringOf(el);
        if (!indicatorShown(before, after)) {
          report("focus-visible", el, "no visible focus indicator (outline " + JSON.stringify(after.outline) +
            ", box-shadow " + JSON.stringify(after.shadow) + ")");
        }
        if (skip.has(el) && !onScreen(el)) report("focus-visible", el, "skip link stays off-screen when focused");
      }
      el.blur();
      el.style.transition = transition;
    }
    if (previous && previous !== document.body && previous.focus) previous.focus();
  }

  // ------------------------------------------------------------------ motion (asked for separately)

  function seconds(list) {
    return Math.max(0, ...list.split(",").map((t) => parseFloat(t) * (/ms\s*$/.test(t) ? 0.001 : 1)));
  }

  function checkMotion() {
    if (!matchMedia("(prefers-reduced-motion: reduce)").matches) {
      report("reduced-motion", document.documentElement, "run this rule with prefers-reduced-motion: reduce emulated");
      return;
    }
    for (const el of document.querySelectorAll("*")) {
      if (ignored(el)) continue;
      const s = getComputedStyle(el);
      if (s.animationName !== "none" && (seconds(s.animationDuration) > 0.01 || /infinite/.test(s.animationIterationCount))) {
        report("reduced-motion", el, "animation " + s.animationName + " (" + s.animationDuration + " × " +
          s.animationIterationCount + ") under prefers-reduced-motion: reduce");
      }
      if (s.transitionProperty !== "none" && seconds(s.transitionDuration) > 0.01) {
        report("reduced-motion", el, "transition of " + s.transitionProperty + " (" + s.transitionDuration +
          ") under prefers-reduced-motion: reduce");
      }
    }
    if (getComputedStyle(document.documentElement).scrollBehavior === "smooth") {
      report("reduced-motion", document.documentElement, "scroll-behavior: smooth under prefers-reduced-motion: reduce");
    }
  }

  const RULES = {
    labels: checkLabels, contrast: checkContrast, document: checkDocument, focus: checkFocus, motion: checkMotion,
  };

  function check(options) {
    violations = [];
    for (const name of (options && options.rules) || ["labels", "contrast", "document", "focus"]) {
      if (!RULES[name]) throw new Error("no rule group " + name);
      RULES[name]();
    }
    return violations;
  }

  // ------------------------------------------------------------------ the keyboard walk (a11y.py tab_walk)

  // A name for an element that stays the same between calls: its selector, or its radio group (Tab
  // enters a group once; arrows move inside it).
  function keyOf(el) {
    if (el.localName === "input" && el.type === "radio" && el.name) return "radio group " + JSON.stringify(el.name);
    return selectorOf(el);
  }

  // What Tab must reach: every visible control (native ones even when tabindex=-1 takes them out of the
  // order: that is the defect), each once. Takes the focus away and keeps each one's resting ring
  // (window.__fetchgateRest) for `focused` to compare with.
  function tabTargets() {
    if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
    const rest = new WeakMap();
    const keys = [];
    const skip = skipLinks();
    for (const el of reachable(true)) {
      if (!visible(el) && !skip.has(el)) continue;
      rest.set(el, ringOf(el));
      if (!visible(el)) continue;
      const key = keyOf(el);
      if (!keys.includes(key)) keys.push(key);
    }
    window.__fetchgateRest = rest;
    return keys;
  }

  // The focused element: its key, whether it is on screen, and whether its ring differs visibly from
  // its resting one. null when the focus is not on an element of the page.
  function focused() {
    const el = document.activeElement;
    if (!el || el === document.body || el === document.documentElement) return null;
    const rest = window.__fetchgateRest && window.__fetchgateRest.get(el);
    const now = ringOf(el);
    const r = el.getBoundingClientRect();
    return {
      key: keyOf(el),
      shown: visible(el) && r.width > 1 && r.height > 1 && r.bottom > 0 && r.right > 0 &&
        r.top < innerHeight && r.left < innerWidth,
      indicator: rest !== undefined && indicatorShown(rest, now),
      ring: now.outline + " / " + now.shadow,
      rest: rest ? rest.outline + " / " + rest.shadow : null,
    };
  }

  return { check: check, tabTargets: tabTargets, focused: focused };
}
