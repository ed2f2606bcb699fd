"""The HTML report: one self-contained page (inline CSS and script, no external resource).

It says everything the Markdown says (the same ``header_facts`` and ``workload_lines``), with a
search box and status/severity filters that work offline on thousands of workloads: the script
indexes the text of every filterable element (``data-f``) once at load and hides what does not
match; a workload's details stay collapsed in ``<details>`` until opened.
"""

from __future__ import annotations

import html
from typing import Any

from migrate import report_costs
from migrate.findings import SEVERITIES, all_findings, counts, skipped_severity, status
from migrate.findings import workload_findings as findings_of
from migrate.report import (
    Context,
    Line,
    capacity,
    front,
    header_facts,
    summary,
    summary_sentence,
    target_region,
    workload_lines,
)

STATUSES = ("blocked", "action needed", "ready")

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5rem;color:#1b1f24;
max-width:1300px}table{border-collapse:collapse;width:100%;margin:.75rem 0}
th,td{border:1px solid #d0d7de;padding:.3rem .45rem;text-align:left;vertical-align:top;
font-size:.86rem}th{background:#f6f8fa}.nw{white-space:nowrap}
code{font-size:.78rem;word-break:break-all;background:#f6f8fa;padding:0 .2rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem}dt{font-weight:600}
dd{margin:0}
.sev{font-weight:700;text-transform:uppercase;font-size:.72rem;padding:.05rem .3rem;
border-radius:3px;white-space:nowrap}
.blocker,.blocked{background:#ffebe9;color:#82071e}.action,.action-needed{background:#fff8c5;
color:#7d4e00}.note,.ready{background:#eef6ff;color:#0a3069}
details{border-top:1px solid #d0d7de;padding:.3rem 0}summary{cursor:pointer;font-weight:600}
#filters{position:sticky;top:0;background:#fff;padding:.5rem 0;border-bottom:2px solid #d0d7de;
display:flex;gap:.75rem;flex-wrap:wrap;align-items:center;z-index:1}
#q{flex:1;min-width:16rem;padding:.35rem;font-size:.95rem}
ul{margin:.3rem 0;padding-left:1.3rem}li{margin:.1rem 0}
"""

# Filters rows and sections by the search words (all must match), status and severity.
_SCRIPT = """
(function(){
var items=[].slice.call(document.querySelectorAll('[data-f]'));
var text=items.map(function(e){return e.textContent.toLowerCase();});
var q=document.getElementById('q'),st=document.getElementById('status'),
sv=document.getElementById('severity'),shown=document.getElementById('shown'),timer=null;
function apply(){
 var words=q.value.toLowerCase().split(/\\s+/).filter(Boolean),s=st.value,v=sv.value,n=0;
 for(var i=0;i<items.length;i++){
  var e=items[i],ok=true;
  for(var j=0;j<words.length&&ok;j++){ok=text[i].indexOf(words[j])>=0;}
  if(ok&&s&&e.getAttribute('data-status')!==null){ok=e.getAttribute('data-status')===s;}
  if(ok&&v&&e.getAttribute('data-sev')!==null){ok=e.getAttribute('data-sev')===v;}
  e.hidden=!ok;if(ok&&e.getAttribute('data-w')!==null){n++;}
 }
 shown.textContent=n+' of '+total+' workloads shown';
}
var total=document.querySelectorAll('tr[data-w]').length;
function later(){clearTimeout(timer);timer=setTimeout(apply,120);}
q.addEventListener('input',later);st.addEventListener('change',apply);
sv.addEventListener('change',apply);apply();
// A link from the workload table opens that workload's collapsed details.
function openTarget(){var d=document.getElementById(location.hash.slice(1));
 if(d&&d.tagName==='DETAILS'){d.open=true;}}
if(typeof window!=='undefined'){window.addEventListener('hashchange',openTarget);openTarget();}
})();
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _prose(text: Any) -> str:
    """Escaped text whose `backquoted` spans (commands in plan reasons) become <code>, as the
    Markdown report shows them."""
    pieces = str(text).split("`")
    if len(pieces) % 2 == 0:  # an unpaired backquote is just a character
        return _e(text)
    return "".join(_e(p) if i % 2 == 0 else f"<code>{_e(p)}</code>" for i, p in enumerate(pieces))


def _badge(word: str) -> str:
    return f"<span class='sev {_e(word.replace(' ', '-'))}'>{_e(word)}</span>"


def _li(line: Line) -> str:
    parts = []
    if line.severity:
        parts.append(_badge(line.severity))
    if line.text:
        parts.append(_prose(line.text))
    if line.code:
        parts.append(f"<code>{_e(line.code)}</code>")
    inner = " ".join(parts)
    if line.children:
        inner += "<ul>" + "".join(_li(c) for c in line.children) + "</ul>"
    return f"<li>{inner}</li>"


def _anchor(name: str) -> str:
    return "w-" + "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def page(plan: dict[str, Any], context: Context) -> str:
    s = summary(plan)
    out = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        "<title>Cutover migration plan</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Cutover migration plan</h1><dl>",
    ]
    out += [
        f"<dt>{_e(label)}:</dt><dd>{_e(text)}</dd>" for label, text in header_facts(plan, context)
    ]
    out.append(f"</dl><p>{_e(summary_sentence(s))}</p>")
    out.append(
        "<div id='filters'><input id='q' type='search' placeholder='Search workloads, "
        "resources, findings (all words)' aria-label='Search'>"
        "<label>Status <select id='status'><option value=''>any</option>"
        + "".join(f"<option>{_e(x)}</option>" for x in STATUSES)
        + "</select></label><label>Severity <select id='severity'><option value=''>any</option>"
        + "".join(f"<option>{_e(x)}</option>" for x in SEVERITIES)
        + "</select></label><span id='shown'></span></div>"
    )
    out.append(
        "<h2>Workloads</h2><table><thead><tr><th>Workload</th><th>Status</th><th>Azure</th>"
        "<th>Instances</th><th>AWS type</th><th>Region</th><th>Min / Desired / Max</th>"
        "<th>Load balancer</th><th>Blockers / actions / notes</th></tr></thead><tbody>"
    )
    for w in plan["workloads"]:
        az, aws = w["azure"], w["aws"]
        found = findings_of(w)
        state, tally = status(found), counts(found)
        out.append(
            f"<tr data-f data-w data-status='{_e(state)}'>"
            f"<td><a href='#{_anchor(w['name'])}'>{_e(w['name'])}</a></td>"
            f"<td>{_badge(state)}</td><td>{_e(az['kind'])} {_e(az['vmSize'])}</td>"
            f"<td>{_e(az['instances'])}</td><td>{_e(aws['instanceType'])}</td>"
            # a region name must not break at its hyphens ("eu-central-" / "1")
            f"<td class='nw'>{_e(target_region(az.get('location', '')) or 'unmapped')}</td>"
            f"<td>{_e(capacity(aws))}</td><td>{_e(front(aws))}</td>"
            f"<td>{tally['blocker']} / {tally['action']} / {tally['note']}</td></tr>"
        )
    out.append("</tbody></table>")
    out.append(
        "<h2>Measured use and monthly cost</h2><table><thead><tr>"
        + "".join(f"<th>{_e(h)}</th>" for h in report_costs.TABLE_HEADERS)
        + "<th>CPU / memory per day</th></tr></thead><tbody>"
    )
    for w in plan["workloads"]:
        cells = "".join(f"<td>{_e(c)}</td>" for c in report_costs.table_row(w))
        out.append(f"<tr data-f>{cells}<td>{report_costs.svg(w)}</td></tr>")
    out.append("</tbody></table>")
    findings = all_findings(plan)
    out.append("<h2>Findings (blockers first)</h2>")
    if findings:
        out.append(
            "<table><thead><tr><th>Severity</th><th>Workload or resource</th><th>Finding</th>"
            "</tr></thead><tbody>"
        )
        out += [
            f"<tr data-f data-sev='{_e(f.severity)}'><td>{_badge(f.severity)}</td>"
            f"<td>{_e(f.subject) if f.workload else f'<code>{_e(f.subject)}</code>'}</td>"
            f"<td>{_e(f.text)}</td></tr>"
            for f in findings
        ]
        out.append("</tbody></table>")
    else:
        out.append("<p>None.</p>")
    out.append("<h2>Workload details</h2>")
    for w in plan["workloads"]:
        state = status(findings_of(w))
        out.append(
            f"<details id='{_anchor(w['name'])}' data-f data-status='{_e(state)}'>"
            f"<summary>{_e(w['name'])} {_badge(state)}</summary><ul>"
        )
        chart = report_costs.svg(w)
        if chart:
            out.append(f"<li>CPU (blue) and memory (orange), daily peak %: {chart}</li>")
        out += [_li(line) for line in workload_lines(w, context)]
        out.append("</ul></details>")
    out.append("<h2>Skipped</h2>")
    if plan["skipped"]:
        out.append(
            "<table><thead><tr><th>Severity</th><th>Resource</th><th>Reason</th></tr></thead>"
            "<tbody>"
        )
        for x in sorted(
            plan["skipped"], key=lambda x: SEVERITIES.index(skipped_severity(x["reason"]))
        ):
            severity = skipped_severity(x["reason"])
            out.append(
                f"<tr data-f data-sev='{_e(severity)}'><td>{_badge(severity)}</td>"
                f"<td><code>{_e(x['id'])}</code></td><td>{_e(x['reason'])}</td></tr>"
            )
        out.append("</tbody></table>")
    else:
        out.append("<p>Nothing skipped.</p>")
    if plan.get("notes"):
        out.append(
            "<h2>Notes</h2><ul>" + "".join(f"<li>{_e(n)}</li>" for n in plan["notes"]) + "</ul>"
        )
    out.append(f"<script>{_SCRIPT}</script></body></html>\n")
    return "\n".join(out)
