// Checks a response against /openapi.json with a JSON Schema 2020-12 validator (ajv): its status
// must be documented for the operation, and its JSON body must match the documented schema.
import Ajv2020 from 'ajv/dist/2020';
import { openApiDocument } from '../../src/http/openapi';

type Doc = { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>> };

const doc = openApiDocument() as unknown as Doc;
// `format` is an annotation in draft 2020-12 unless a vocabulary asserts it; OpenAPI keywords are not schema keywords.
const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
ajv.addSchema(doc, 'openapi');

const pointer = (...parts: string[]) => parts.map((p) => encodeURIComponent(p.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/');

/** Problems with one response, empty when it conforms. */
export function conformance(method: string, template: string, status: number, contentType: string | null, body: unknown): string[] {
  const op = doc.paths[template]?.[method.toLowerCase()];
  if (!op) return [`${method} ${template} is not in the document`];
  const response = op.responses[String(status)];
  if (!response)
    return [`${method} ${template} answered ${status}, which the document does not list (${Object.keys(op.responses).join(', ')})`];
  const type = (contentType ?? '').split(';')[0].trim();
  if (!response.content) return [];
  if (!response.content[type]) return [`${method} ${template} ${status}: content type ${type} is not documented`];
  if (type !== 'application/json') return [];
  const validate = ajv.getSchema(
    `openapi#/${pointer('paths', template, method.toLowerCase(), 'responses', String(status), 'content', type, 'schema')}`,
  );
  if (!validate) return [`no schema for ${method} ${template} ${status}`];
  return validate(body)
    ? []
    : (validate.errors ?? []).map(
        (e) => `${method} ${template} ${status}: ${e.instancePath || 'body'} ${e.message} ${JSON.stringify(e.params)}`,
      );
}
