// Staff pages: the filter panel folds into one "Filter" control on a phone and stays open
// on a wider screen, where it fits beside the figures.
if (window.matchMedia('(min-width: 48rem)').matches) {
  for (const d of document.querySelectorAll('details.fold')) d.open = true;
}

// The theme editor: the preview of what the terms find follows them as they are typed.
const editor = document.querySelector('form[data-preview]');
if (editor) {
  let timer;
  editor.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const body = new URLSearchParams(new FormData(editor));
      const answer = await fetch(editor.dataset.preview, { method: 'POST', body, credentials: 'same-origin' });
      const fresh = new DOMParser().parseFromString(await answer.text(), 'text/html').getElementById('preview');
      if (fresh) document.getElementById('preview').replaceWith(fresh);
    }, 400);
  });
}
