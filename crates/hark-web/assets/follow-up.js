// Saves the follow-up answers as they are given (the form works without it).
(function(){var f=document.getElementById('f'),s=document.getElementById('st'),t;
function save(){var d=new URLSearchParams(new FormData(f));d.append('partial','1');
fetch(f.action,{method:'POST',body:d}).then(function(r){if(r.ok)s.textContent=f.dataset.saved;});}
f.addEventListener('change',save);
f.addEventListener('input',function(e){if(e.target.tagName==='TEXTAREA'||e.target.type==='text'){clearTimeout(t);t=setTimeout(save,700);}});})();
