// Staff pages: the filter panel folds into one "Filter" control on a phone and stays open
// on a wider screen, where it fits beside the figures.
if (window.matchMedia('(min-width: 48rem)').matches) {
  for (const d of document.querySelectorAll('details.fold')) d.open = true;
}
