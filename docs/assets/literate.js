// "copy runnable" beside a class or function: copies the file the link points at (the
// definition with everything it uses, made by the build) to the clipboard. Without script, or
// where the clipboard is refused, the link downloads the same file.
document.addEventListener("click", async event => {
  const link = event.target.closest("a.lit-runnable")
  if (!link || !navigator.clipboard) return
  event.preventDefault()
  try {
    const response = await fetch(link.href)
    if (!response.ok) throw new Error(response.statusText)
    await navigator.clipboard.writeText(await response.text())
    link.dataset.copied = ""  // literate.css shows a tick for a moment
    setTimeout(() => delete link.dataset.copied, 1500)
  } catch {
    location.href = link.href  // download it instead
  }
})
