// The property sheet's object layout: a uiSchema may arrange an object's members in groups
// (`"ui:options": {"groups": [{"title", "fields", "collapsed"}]}`). A group without a title is
// shown as is; one with a title is a disclosure whose closed state shows a one-line summary of
// its current values. Objects without groups render as rjsf's default template does.
import { getDefaultRegistry } from '@rjsf/core';
import { descriptionId, getUiOptions, titleId, type ObjectFieldTemplateProps } from '@rjsf/utils';
import type { JsonObject } from '../../api/types';
import { summarize } from '../../lib/summary';

interface Group {
  title?: string;
  fields: string[];
  collapsed?: boolean;
}

const Default = getDefaultRegistry().templates.ObjectFieldTemplate;

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

export function GroupedObjectTemplate(props: ObjectFieldTemplateProps) {
  const options = getUiOptions(props.uiSchema);
  const groups = Array.isArray(options.groups) ? (options.groups as Group[]) : null;
  const hideTitle = options.label === false;
  if (!groups) return <Default {...props} title={hideTitle ? '' : props.title} description={hideTitle ? undefined : props.description} />;

  const byName = new Map(props.properties.map((p) => [p.name, p]));
  const placed = new Set(groups.flatMap((g) => g.fields));
  const rest = props.properties.filter((p) => !placed.has(p.name) && !p.hidden);
  const schema = props.schema as JsonObject;
  const { TitleFieldTemplate, DescriptionFieldTemplate } = props.registry.templates;

  return (
    <fieldset id={props.fieldPathId.$id} className="lf-grouped">
      {!hideTitle && props.title && <TitleFieldTemplate id={titleId(props.fieldPathId)} title={props.title} required={props.required} schema={props.schema} uiSchema={props.uiSchema} registry={props.registry} />}
      {!hideTitle && props.description && <DescriptionFieldTemplate id={descriptionId(props.fieldPathId)} description={props.description} schema={props.schema} uiSchema={props.uiSchema} registry={props.registry} />}
      {groups.map((g, i) => {
        const members = g.fields.map((f) => byName.get(f)).filter((p) => p && !p.hidden);
        if (members.length === 0) return null;
        const content = members.map((p) => p!.content);
        if (!g.title) return <div key={i}>{content}</div>;
        const summary = summarize(props.formData, schema, members.map((p) => p!.name));
        return (
          <details key={i} className="lf-group" open={!g.collapsed} data-testid={`group-${slug(g.title)}`}>
            <summary>
              <span className="lf-group-title">{g.title}</span>
              {summary && (
                <span className="lf-group-summary" title={summary} data-testid="group-summary">
                  {summary}
                </span>
              )}
            </summary>
            <div className="lf-group-body">{content}</div>
          </details>
        );
      })}
      {rest.map((p) => p.content)}
    </fieldset>
  );
}
