// Run axe-core on HTML pages in headless Chromium, for tests/accessibility/_axe.py.
//
// Reads {"pages": [{"name": ..., "html": ...}], "chromium": "/usr/bin/chromium"} as JSON on
// stdin and writes {"axe": version, "browser": version, "pages": [{"name", "media",
// "violations"}]} as JSON on stdout. Each page is audited twice: as shown on a screen and as
// printed (the print style sheet applies). Nothing is fetched: every request a page makes is
// aborted, and the page is set as content, never loaded from a server. The page's own content
// security policy forbids scripts, so the browser is told to bypass it for axe alone.
//
// Besides axe-core's rules, three checks of purposeful's own, for what axe does not look at
// (reported like axe's violations, with ids starting "purposeful-"): the page reflows at 320
// CSS pixels wide, as at 400% zoom (WCAG 1.4.10; tables are exempt); no two texts of a chart
// overlap; and every filled shape of a chart has a contrast of 3:1 with the page (WCAG
// 1.4.11).
//
// It must not write anything but the JSON on stdout; errors go to stderr with exit status 1.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

// The flags Chromium needs on a machine with a closed network and no screen (the sandbox
// needs privileges a CI container does not give; Playwright adds --headless and its own new,
// empty user data directory).
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

// WCAG 2.0, 2.1 and 2.2, levels A and AA, and axe's best practices.
const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"];
const STEP_TIMEOUT_MS = 30_000;

function readStdin() {
  return readFileSync(0, "utf8");
}

function simplify(violation) {
  return {
    id: violation.id,
    impact: violation.impact ?? "unknown",
    help: violation.help,
    helpUrl: violation.helpUrl,
    targets: violation.nodes.map((node) => node.target.join(" ")),
    summaries: violation.nodes.map((node) => node.failureSummary ?? ""),
  };
}

async function auditPage(page, media) {
  await page.emulateMedia({ media });
  await page.evaluate(AXE_SOURCE);
  const results = await page.evaluate(
    (tags) => window.axe.run(document, { runOnly: { type: "tag", values: tags } }),
    TAGS,
  );
  const violations = results.violations.map(simplify);
  violations.push(...(await page.evaluate(ownChecks)));
  return { violations, version: results.testEngine.version };
}

// Runs in the page: purposeful's own checks of the chart's text and colours.
function ownChecks() {
  const found = [];
  // Where an element is, from its chart: "svg > text:nth-child(15)".
  const selector = (element) => {
    const index = [...element.parentElement.children].indexOf(element) + 1;
    return `svg > ${element.tagName.toLowerCase()}:nth-child(${index})`;
  };
  const texts = [...document.querySelectorAll("svg text")];
  const overlapping = [];
  for (let i = 0; i < texts.length; i++) {
    const a = texts[i].getBoundingClientRect();
    for (let j = i + 1; j < texts.length; j++) {
      const b = texts[j].getBoundingClientRect();
      if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1) {
        overlapping.push(selector(texts[j]));
      }
    }
  }
  if (overlapping.length) {
    found.push({
      id: "purposeful-chart-text-overlap",
      impact: "serious",
      help: "Texts in a chart must not overlap each other",
      helpUrl: "https://www.w3.org/WAI/WCAG22/Understanding/reflow.html",
      targets: overlapping,
      summaries: overlapping.map(() => "Fix: space the labels so each can be read"),
    });
  }
  const luminance = (rgb) => {
    const [r, g, b] = rgb.map((c) => {
      const v = c / 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const channels = (colour) => (colour.match(/[\d.]+/g) || []).slice(0, 3).map(Number);
  // The page's background: the body's, or white where it is transparent (a browser's own).
  const background = getComputedStyle(document.body).backgroundColor;
  const transparent = (background.match(/[\d.]+/g) || []).length === 4 && background.endsWith(" 0)");
  const page = luminance(channels(transparent ? "rgb(255, 255, 255)" : background));
  const faint = [];
  const ratios = [];
  for (const shape of document.querySelectorAll("svg[role=img] rect")) {
    const fill = getComputedStyle(shape).fill;
    if (!fill || fill === "none" || !fill.startsWith("rgb")) continue;
    const own = luminance(channels(fill));
    const ratio = (Math.max(own, page) + 0.05) / (Math.min(own, page) + 0.05);
    if (ratio < 3) {
      faint.push(selector(shape));
      ratios.push(`Fix: the fill ${fill} has a contrast of ${ratio.toFixed(2)}:1 with the page; 3:1 is needed`);
    }
  }
  if (faint.length) {
    found.push({
      id: "purposeful-chart-contrast",
      impact: "serious",
      help: "Shapes in a chart must have a contrast of 3:1 with the page",
      helpUrl: "https://www.w3.org/WAI/WCAG22/Understanding/non-text-contrast.html",
      targets: faint,
      summaries: ratios,
    });
  }
  return found;
}

// Runs in the page at 320 CSS pixels wide: the elements, and the text, that stick out to the
// right, outside a table (text can spill out of a box that fits).
function reflowCheck() {
  const width = document.documentElement.clientWidth;
  const outside = (element) => !element.closest("table") && !element.closest("svg");
  const wide = [...document.body.querySelectorAll("*")].filter(
    (element) => element.getBoundingClientRect().right > width + 1 && outside(element),
  );
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || !outside(parent) || wide.includes(parent)) continue;
    range.selectNodeContents(node);
    if (range.getBoundingClientRect().right > width + 1) wide.push(parent);
  }
  if (!wide.length) return [];
  return [
    {
      id: "purposeful-reflow",
      impact: "serious",
      help: "Content must fit a screen 320 CSS pixels wide without scrolling sideways (tables excepted)",
      helpUrl: "https://www.w3.org/WAI/WCAG22/Understanding/reflow.html",
      targets: wide.slice(0, 10).map((element) => element.tagName.toLowerCase()),
      summaries: wide.slice(0, 10).map(() => "Fix: let the element wrap or shrink"),
    },
  ];
}

async function main() {
  const request = JSON.parse(readStdin());
  const browser = await chromium.launch({
    executablePath: request.chromium,
    headless: true,
    args: FLAGS,
    timeout: STEP_TIMEOUT_MS,
  });
  const out = { axe: null, browser: browser.version(), pages: [] };
  try {
    for (const { name, html } of request.pages) {
      const context = await browser.newContext({
        bypassCSP: true,
        viewport: { width: 1280, height: 720 },
      });
      context.setDefaultTimeout(STEP_TIMEOUT_MS);
      await context.route("**/*", (route) => route.abort());
      try {
        const page = await context.newPage();
        await page.setContent(html, { waitUntil: "load" });
        for (const media of ["screen", "print"]) {
          const { violations, version } = await auditPage(page, media);
          out.axe = version;
          if (media === "screen") {
            await page.setViewportSize({ width: 320, height: 640 });
            violations.push(...(await page.evaluate(reflowCheck)));
            await page.setViewportSize({ width: 1280, height: 720 });
          }
          out.pages.push({ name, media, violations });
        }
      } finally {
        await context.close();
      }
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((error) => {
  process.stderr.write(`${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
