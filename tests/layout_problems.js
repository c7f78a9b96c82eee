// What a person would call broken at this window size, measured in the page; see
// tests/test_browser.py (LAYOUT_PROBLEMS_JS). Returns one line per problem (an empty list: none).
() => {
    const problems = [], EPS = 1, width = document.documentElement.clientWidth;
    const FRAMES = '[data-testid="stColumn"], [data-testid="stMainBlockContainer"], [data-testid="stSidebarContent"]';
    const REPLACED = new Set(['IMG', 'VIDEO', 'CANVAS', 'IFRAME', 'svg']);
    const style = new Map(), css = e => style.get(e) || (style.set(e, getComputedStyle(e)), style.get(e));
    const styled = e => {  // not hidden by a style of its own or of an ancestor
        for (let a = e; a; a = a.parentElement) {
            const s = css(a);
            if (s.display === 'none' || s.visibility === 'hidden' || s.opacity === '0') return false;
        }
        return true;
    };
    const shown = e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && styled(e); };
    const describe = (e, text) => {
        const element = e.nodeType === 3 ? e.parentElement : e, owner = element.closest('[data-testid]');
        text = (text || e.textContent || element.getAttribute('alt') || element.getAttribute('aria-label') || '')
            .trim().replace(/\s+/g, ' ').slice(0, 60);
        return `${owner ? owner.dataset.testid : ''} <${element.tagName.toLowerCase()}> "${text}"`;
    };
    const outside = (r, f) => r.left < f.left - EPS || r.right > f.right + EPS;
    const union = rects => rects.reduce((u, r) => ({left: Math.min(u.left, r.left), right: Math.max(u.right, r.right),
        top: Math.min(u.top, r.top), bottom: Math.max(u.bottom, r.bottom)}),
        {left: Infinity, right: -Infinity, top: Infinity, bottom: -Infinity});
    const lines = rects => new Set(rects.map(r => Math.round(r.top / 3))).size;  // rows of text, a few px apart
    const sidebar = document.querySelector('[data-testid="stSidebar"]');
    const roots = [document.querySelector('[data-testid="stMain"]')];
    if (sidebar && sidebar.getBoundingClientRect().right > 1) roots.push(sidebar);  // open, not folded away
    const window_ = {left: 0, right: width};
    if (document.documentElement.scrollWidth > width + EPS) problems.push(`the page scrolls sideways (${document.documentElement.scrollWidth} px in ${width})`);

    // boxes: each against its column and the window, unless a box between them clips it (then that box is checked)
    for (const root of roots) for (const e of root.querySelectorAll('*')) {
        if (e.closest('svg') && e.tagName !== 'svg' || !shown(e)) continue;
        const frame = e.parentElement && e.parentElement.closest(FRAMES);
        let clipped = false;
        for (let a = e.parentElement; a && a !== frame && !clipped; a = a.parentElement) {
            const overflow = css(a).overflowX;
            clipped = REPLACED.has(e.tagName) ? overflow === 'auto' || overflow === 'scroll' : overflow !== 'visible';
        }
        if (clipped) continue;
        const r = e.getBoundingClientRect();
        if (outside(r, window_)) problems.push(`past the window: ${describe(e)} [${Math.round(r.left)}, ${Math.round(r.right)}]`);
        else if (frame && outside(r, frame.getBoundingClientRect())) {
            const f = frame.getBoundingClientRect();
            problems.push(`past its column: ${describe(e)} [${Math.round(r.left)}, ${Math.round(r.right)}] in [${Math.round(f.left)}, ${Math.round(f.right)}]`);
        }
    }
    // text: cut by a clipping ancestor, its column or the window; words broken; st.text lines wrapped
    for (const root of roots) {
        const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const parent = node.parentElement;
            // (its parent's own box may be empty: `display: contents`)
            if (!node.data.trim() || parent.closest('svg, script, style, noscript, [data-testid="stIconMaterial"]') || !styled(parent)) continue;
            const range = document.createRange();
            range.selectNodeContents(node);
            const rects = [...range.getClientRects()].filter(r => r.width > 0);
            if (!rects.length) continue;
            const box = union(rects);
            for (let a = parent; a && a !== root.parentElement; a = a.parentElement) {
                const s = css(a), r = a.getBoundingClientRect();
                const cutX = s.overflowX !== 'visible' && outside(box, r);
                const cutY = (s.overflowY === 'hidden' || s.overflowY === 'clip') && (box.top < r.top - EPS || box.bottom > r.bottom + EPS);
                if ((cutX || cutY) && (r.width <= 1 || r.height <= 1)) break;  // for screen readers only, never shown
                if (cutX || cutY) { problems.push(`text cut: ${describe(node)}`); break; }
                if (a.matches(FRAMES) && outside(box, r)) { problems.push(`text past its column: ${describe(node)}`); break; }
            }
            if (outside(box, window_)) problems.push(`text past the window: ${describe(node)}`);
            for (const word of node.data.matchAll(/[^\s\/\-\u2013\u2014]{2,}/g)) {
                range.setStart(node, word.index);
                range.setEnd(node, word.index + word[0].length);
                if (lines([...range.getClientRects()].filter(r => r.width > 0)) > 1) problems.push(`word broken: ${describe(node, word[0])}`);
            }
            if (parent.closest('[data-testid="stText"]') && lines(rects) > node.data.trim().split('\n').length)
                problems.push(`st.text line wrapped: ${describe(node)}`);
        }
    }
    // a widget's value cut (a select box shows its choice in an input)
    for (const root of roots) for (const e of root.querySelectorAll('input[type="text"], input:not([type]), input[type="number"], textarea'))
        if (shown(e) && e.scrollWidth > e.clientWidth + EPS) problems.push(`value cut: ${describe(e, e.value)}`);
    // Plotly: text inside the chart and inside the clip path it is drawn in; titles off the legend
    for (const plot of document.querySelectorAll('.js-plotly-plot')) {
        if (!shown(plot)) continue;
        const chart = plot.querySelector('.main-svg').getBoundingClientRect();
        const legend = plot.querySelector('.legend .bg');
        const legendBox = legend && legend.getBoundingClientRect();
        for (const text of plot.querySelectorAll('text')) {
            if (!text.textContent.trim() || !shown(text)) continue;
            const r = text.getBoundingClientRect();
            if (outside(r, chart) || r.top < chart.top - EPS || r.bottom > chart.bottom + EPS) { problems.push(`chart text cut by the chart's edge: ${describe(text)}`); continue; }
            const holder = text.parentElement.closest('[clip-path]');
            const clip = holder && document.getElementById(holder.getAttribute('clip-path').replace(/^url\(["']?#|["']?\)$/g, ''));
            const shape = clip && clip.querySelector('rect');
            if (shape) {
                const m = holder.getScreenCTM(), b = shape.getBBox();
                const p = new DOMPoint(b.x, b.y).matrixTransform(m), q = new DOMPoint(b.x + b.width, b.y + b.height).matrixTransform(m);
                if (outside(r, {left: p.x, right: q.x})) problems.push(`chart text clipped: ${describe(text)}`);
            }
            if (legendBox && text.closest('.g-xtitle, .g-ytitle, .g-gtitle') && !(r.right <= legendBox.left || r.left >= legendBox.right || r.bottom <= legendBox.top || r.top >= legendBox.bottom))
                problems.push(`axis title under the legend: ${describe(text)}`);
        }
    }
    return problems;
}
