/**
 * One rule for every link a plan puts in the portal (site/core/plan/link-url.ts): http(s),
 * mailto or relative is kept; any other scheme (`javascript:`, `data:`, `vbscript:`, with the
 * control characters browsers ignore inside a scheme) is refused in MDX and shown as text in
 * Markdown.
 */
import { describe, expect, it } from 'vitest';
import { renderPlanBody } from '../../../site/core/render/plan-body.ts';

describe('links and images in an MDX body', () => {
  it.each(['https://files.example/diagram.png', 'mailto:maya@northwind.example', 'diagram.png', './img/diagram.png', '/diagram.png', '#timeline'])('keeps %s', async (url) => {
    const rendered = await renderPlanBody(`<p>See <a href="${url}">this</a> and <img src="${url}" alt="diagram" /></p>`, 'mdx');
    expect(rendered.problems).toEqual([]);
    expect(rendered.html).toContain(`href="${url}"`);
    expect(rendered.html).toContain(`src="${url}"`);
  });

  it.each(['javascript:alert(1)', 'JavaScript:alert(1)', 'java\tscript:alert(1)', 'data:text/html,<b>x</b>', 'vbscript:msgbox(1)', 'file:///etc/passwd'])('refuses %j with the rule in the message', async (url) => {
    const rendered = await renderPlanBody(`<p><a href="${url}">click</a></p>`, 'mdx');
    expect(rendered.html).toBe('');
    expect(rendered.problems).toHaveLength(1);
    expect(rendered.problems[0]).toMatchObject({ code: 'PLAN_BODY_INVALID' });
    expect(rendered.problems[0]!.message).toContain('links must be http(s), mailto or relative');
  });
});

describe('the Video component', () => {
  it.each(['javascript://www.youtube.com/?v=abcdefgh#%0aalert(1)', 'data://www.youtube.com/?v=abcdefgh', 'javascript://vimeo.com/123456%0aalert(1)'])('refuses %j, whatever host it names', async (src) => {
    const rendered = await renderPlanBody(`<Video src="${src}" title="Kickoff" />`, 'mdx');
    expect(rendered.html).toBe('');
    expect(rendered.problems.map((p) => p.message)).toEqual([expect.stringContaining('only YouTube and Vimeo links can be embedded')]);
  });
});

describe('links and images in a Markdown body', () => {
  it('renders a javascript: link as its text and a data: image as its alt text', async () => {
    const rendered = await renderPlanBody('Read [the runbook](javascript:alert(1)) and ![the chart](data:image/png;base64,AAAA).\n\nAlso [the wiki](https://wiki.example/onboarding) and ![a diagram](img/diagram.png).', 'md');
    expect(rendered.problems).toEqual([]);
    expect(rendered.html).not.toMatch(/javascript:|data:image/);
    expect(rendered.html).toContain('Read the runbook and the chart.');
    expect(rendered.html).toContain('<a href="https://wiki.example/onboarding">the wiki</a>');
    expect(rendered.html).toContain('<img src="img/diagram.png" alt="a diagram">');
  });
});
