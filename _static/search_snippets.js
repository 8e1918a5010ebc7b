/* Search snippets from the page's text, not its header.
 *
 * Sphinx's searchtools.js builds each result's snippet from the fetched page's
 * [role="main"] element. In pydata-sphinx-theme that is the whole <main>, which starts
 * with sphinx-book-theme's header (the download, print and launch buttons, the
 * "Contents" list) and holds the right-hand sidebar, so a snippet often shows those
 * words instead of the page. This keeps only the page's <article>, without the box that
 * says how to run the page, before Sphinx looks for the words (and the anchor of a
 * section hit) in it.
 */
(function () {
  "use strict";
  function patch() {
    if (typeof Search === "undefined" || !Search.htmlToText || Search.htmlToText.articleOnly) {
      return;
    }
    const original = Search.htmlToText;
    const articleOnly = function (htmlString, anchor) {
      const doc = new DOMParser().parseFromString(htmlString, "text/html");
      const article = doc.querySelector("article.bd-article") || doc.querySelector("main article");
      if (!article) {
        return original(htmlString, anchor);
      }
      // the same "Run this page yourself" box opens every page: not what a snippet should quote
      article.querySelectorAll(".run-this-page").forEach((box) => box.remove());
      const wrapper = doc.createElement("div");
      wrapper.setAttribute("role", "main");
      wrapper.appendChild(article);
      return original("<!DOCTYPE html><html><body>" + wrapper.outerHTML + "</body></html>", anchor);
    };
    articleOnly.articleOnly = true;
    Search.htmlToText = articleOnly;
  }
  patch();
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", patch);
  }
})();
