// The theme's colours (CSS variables of styles.css) as values: SVG presentation attributes
// such as a chart line's stroke cannot use var(), so charts read them here, again
// whenever the theme (the <html data-theme> attribute) changes.
import { useEffect, useState } from "react";

const NAMES = [
  "text",
  "muted",
  "border",
  "panel",
  "accent",
  "error",
  "ok",
  "warn",
  "kind-agent",
  "kind-llm",
  "kind-tool",
  "kind-retriever",
  "kind-chain",
  "kind-embedding",
  "kind-other",
] as const;
export type ColorName = (typeof NAMES)[number];
export type ThemeColors = Record<ColorName, string>;

// Used where the variables are not defined (jsdom in unit tests).
const FALLBACK: ThemeColors = {
  text: "#1d2330",
  muted: "#6b7385",
  border: "#dfe3ea",
  panel: "#ffffff",
  accent: "#3b5bdb",
  error: "#d6336c",
  ok: "#2b8a3e",
  warn: "#e67700",
  "kind-agent": "#7048e8",
  "kind-llm": "#1c7ed6",
  "kind-tool": "#2b8a3e",
  "kind-retriever": "#e67700",
  "kind-chain": "#868e96",
  "kind-embedding": "#0c8599",
  "kind-other": "#adb5bd",
};

export function readThemeColors(element: Element = document.documentElement): ThemeColors {
  const style = getComputedStyle(element);
  const colors = { ...FALLBACK };
  for (const name of NAMES) {
    const value = style.getPropertyValue(`--${name}`).trim();
    if (value) colors[name] = value;
  }
  return colors;
}

export function useThemeColors(): ThemeColors {
  const [colors, setColors] = useState<ThemeColors>(() => readThemeColors());
  useEffect(() => {
    const root = document.documentElement;
    const observer = new MutationObserver(() => setColors(readThemeColors(root)));
    observer.observe(root, { attributes: true, attributeFilter: ["data-theme", "class", "style"] });
    setColors(readThemeColors(root));
    return () => observer.disconnect();
  }, []);
  return colors;
}

/** The colour of a span kind (AGENT, LLM, ...), as the kind badges use. */
export function kindColor(colors: ThemeColors, kind: string): string {
  const name = `kind-${kind.toLowerCase()}`;
  return (NAMES as readonly string[]).includes(name) ? colors[name as ColorName] : colors["kind-other"];
}
