// The language selector links each language's copy of this page (mkdocs-static-i18n writes
// them at build time). Instant navigation swaps the page without re-rendering the header, so
// after each navigation point the links at the new page: every page exists in every language,
// at the same path under the site root (English) or under /ja/, /zh/.
document$.subscribe(() => {
  const root = __md_scope.href  // the site root, absolute (set once by Material)
  const links = [...document.querySelectorAll("a.md-select__link[hreflang]")]
  const prefixes = links.map(link => link.getAttribute("hreflang") + "/")
  let path = location.href.startsWith(root) ? location.href.slice(root.length) : ""
  const current = prefixes.find(prefix => path.startsWith(prefix))
  if (current) path = path.slice(current.length)
  for (const link of links) {
    const lang = link.getAttribute("hreflang")
    const base = link.dataset.i18nBase ??= new URL(link.href).href.startsWith(root + lang + "/") ? lang + "/" : ""
    link.href = root + base + path.split("#")[0]
    // Another language is another document (its <html lang>, its search language): load it whole.
    // Instant navigation would swap in only the content; it leaves links with a target alone.
    link.target = "_self"
  }
})
