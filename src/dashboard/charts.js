// Summary cards, the four charts and the agents table, drawn from the analytics API
// (/api/analytics/summary, /timeseries, /agents) with chart.js (window.Chart, served by the
// receiver from node_modules). The page computes nothing itself beyond unit conversion.
import { get } from './api.js';
import { count, dash, duration, el, fillTable, money, percent } from './format.js';

const OUTCOME_COLORS = {
  completed: '#2da44e',
  'no-answer': '#d4a72c',
  busy: '#e16f24',
  voicemail: '#8250df',
  failed: '#cf222e',
  canceled: '#6e7781',
  open: '#54aeff',
  stale: '#953800',
};
const PALETTE = ['#0969da', '#2da44e', '#d4a72c', '#8250df', '#cf222e', '#1b7c83', '#e16f24', '#6e7781'];
const charts = new Map();

/** Creates the chart once, then swaps its data: a refresh does not rebuild (or flicker) it. */
function draw(id, config) {
  const canvas = document.getElementById(id);
  const box = canvas.parentElement;
  box.querySelector('.none')?.remove();
  let chart = charts.get(id);
  if (!chart) {
    chart = new window.Chart(canvas, {
      ...config,
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
        ...config.options,
      },
    });
    charts.set(id, chart);
  } else {
    chart.data = config.data;
    chart.update('none');
  }
  canvas.dataset.points = String(config.data.datasets.reduce((a, d) => a + d.data.filter((v) => v !== null && v !== 0).length, 0));
}

function nothing(id, text) {
  const canvas = document.getElementById(id);
  charts.get(id)?.destroy();
  charts.delete(id);
  const box = canvas.parentElement;
  if (!box.querySelector('.none')) box.append(el('div', { class: 'none' }, text));
  canvas.dataset.points = '0';
}

/** The currency most calls were charged in (cost charts and cards show that one). */
const mainCurrency = (byCurrency) => (byCurrency && byCurrency.length ? byCurrency[0] : undefined);

function card(key, label, value, sub) {
  return el('div', { class: 'card', id: `card-${key}`, 'data-key': key }, [
    el('div', { class: 'label' }, label),
    el('div', { class: 'value' }, value),
    sub ? el('div', { class: 'sub' }, sub) : null,
  ]);
}

function renderSummary(s) {
  const o = s.outcomes;
  const cost = mainCurrency(s.cost.byCurrency);
  const other = s.cost.byCurrency.length > 1 ? `+ ${s.cost.byCurrency.length - 1} other currencies` : undefined;
  document
    .getElementById('summary')
    .replaceChildren(
      card('total', 'Calls', count(s.calls.total), `${count(s.calls.finished)} finished · ${count(s.calls.open)} open`),
      card('answer-rate', 'Answered', percent(s.calls.answerRate), `${count(s.calls.answered)} of ${count(s.calls.finished)} finished`),
      card('completed', 'Completed', count(o.completed)),
      card('no-answer', 'No answer', count(o['no-answer'])),
      card('busy', 'Busy', count(o.busy)),
      card('voicemail', 'Voicemail', count(o.voicemail)),
      card('failed', 'Failed', count(o.failed)),
      card('canceled', 'Canceled', count(o.canceled)),
      card('avg-duration', 'Average duration', duration(s.duration.averageSec), `median ${duration(s.duration.medianSec)}`),
      card(
        'cost',
        'Cost',
        cost ? money(cost.totalCents, cost.currency) : dash,
        cost ? `${money(cost.averageCents, cost.currency)} a call${other ? ` · ${other}` : ''}` : 'no cost reported',
      ),
      card(
        'follow-ups',
        'Follow-ups',
        count(s.followUps.scheduled),
        `${count(s.followUps.placed)} placed · ${count(s.followUps.connected)} connected`,
      ),
      card('moved', 'Moved by window', count(s.followUps.movedByWindow)),
      card('blocked', 'Blocked (do-not-call)', count(s.followUps.blockedByDoNotCall)),
      card('emails', 'Emails sent', count(s.emails.sent), `${count(s.emails.skipped)} skipped · ${count(s.emails.failed)} failed`),
      card('stale', 'Stale calls', count(s.calls.stale)),
    );
}

function renderOutcomes(ts) {
  if (!ts.buckets.some((b) => b.calls > 0)) return nothing('chart-outcomes', 'No calls in this range.');
  draw('chart-outcomes', {
    type: 'bar',
    data: {
      labels: ts.buckets.map((b) => b.label),
      datasets: ts.groups.map((g, i) => ({
        label: g,
        data: ts.buckets.map((b) => b.groups[g] ?? 0),
        backgroundColor: OUTCOME_COLORS[g] ?? PALETTE[i % PALETTE.length],
      })),
    },
    options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
  });
}

function renderAnswerRate(ts) {
  if (!ts.buckets.some((b) => b.answerRate !== null)) return nothing('chart-answer', 'No finished calls in this range.');
  draw('chart-answer', {
    type: 'line',
    data: {
      labels: ts.buckets.map((b) => b.label),
      datasets: [
        {
          label: 'answered / finished (%)',
          data: ts.buckets.map((b) => (b.answerRate === null ? null : Math.round(b.answerRate * 1000) / 10)),
          borderColor: '#0969da',
          backgroundColor: '#0969da',
          spanGaps: true,
          tension: 0.2,
          pointRadius: 4,
        },
      ],
    },
    options: { scales: { y: { min: 0, max: 100, ticks: { callback: (v) => `${v}%` } } } },
  });
}

function histogramLabel(h) {
  const f = (s) => (s >= 60 && s % 60 === 0 ? `${s / 60}m` : s >= 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`);
  return h.toSec === null ? `${f(h.fromSec)}+` : `${f(h.fromSec)}–${f(h.toSec)}`;
}

function renderDuration(summary) {
  const hist = summary.duration.histogram;
  const last = hist.reduce((at, h, i) => (h.calls > 0 ? i : at), -1);
  if (last < 0) return nothing('chart-duration', 'No call with a duration in this range.');
  const shown = hist.slice(0, Math.max(last + 1, 6));
  draw('chart-duration', {
    type: 'bar',
    data: {
      labels: shown.map(histogramLabel),
      datasets: [{ label: 'calls', data: shown.map((h) => h.calls), backgroundColor: '#1b7c83' }],
    },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
}

function renderCost(ts) {
  const currencies = [...new Set(ts.buckets.flatMap((b) => b.cost.map((c) => c.currency)))];
  if (currencies.length === 0) return nothing('chart-cost', 'No cost reported in this range.');
  draw('chart-cost', {
    type: 'bar',
    data: {
      labels: ts.buckets.map((b) => b.label),
      datasets: currencies.map((cur, i) => ({
        label: cur,
        backgroundColor: PALETTE[i % PALETTE.length],
        data: ts.buckets.map((b) => (b.cost.find((c) => c.currency === cur)?.totalCents ?? 0) / 100),
      })),
    },
    options: { scales: { y: { beginAtZero: true } } },
  });
}

function renderAgents(agents) {
  fillTable(
    document.getElementById('agents'),
    [
      ['Agent', (a) => a.agentId ?? '(none)'],
      ['Platforms', (a) => a.providers.join(', ')],
      ['Calls', (a) => count(a.calls)],
      ['Answer rate', (a) => percent(a.answerRate)],
      ['Avg duration', (a) => duration(a.averageDurationSec)],
      ['Median', (a) => duration(a.medianDurationSec)],
      ['Success', (a) => (a.success.evaluated ? `${percent(a.success.rate)} of ${count(a.success.evaluated)}` : dash)],
      ['Cost', (a) => (a.cost.length ? money(a.cost[0].totalCents, a.cost[0].currency) : dash)],
      ['Per call', (a) => (a.cost.length ? money(a.cost[0].averageCents, a.cost[0].currency) : dash)],
    ],
    agents.items,
    { empty: 'No calls in this range.' },
  );
}

/** Loads the three analytics reports for the filters and draws everything from them. */
export async function renderAnalytics(filters) {
  const [summary, series, agents] = await Promise.all([
    get('/api/analytics/summary', filters),
    get('/api/analytics/timeseries', { ...filters, interval: 'day', groupBy: 'outcome' }),
    get('/api/analytics/agents', filters),
  ]);
  renderSummary(summary);
  renderOutcomes(series);
  renderAnswerRate(series);
  renderDuration(summary);
  renderCost(series);
  renderAgents(agents);
}
