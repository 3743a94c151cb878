import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { paramsProblem, route } from '../../src/api/route';
import { routes } from '../../src/api/routes';

describe('route declarations', () => {
  it("every route's params name exactly its path's parameters", () => {
    const wrong = routes.flatMap(({ method, path, declaration }) => {
      const problem = paramsProblem(path, declaration.params);
      return problem ? [`${method} ${path}: ${problem}`] : [];
    });
    assert.deepEqual(wrong, []);
    assert.ok(routes.length > 40);
  });

  it('refuses a declaration whose params miss a path parameter, or name one the path lacks', () => {
    const declaration = (params?: z.ZodObject) => ({
      operationId: 'x',
      summary: 'x',
      access: 'public' as const,
      params,
      responses: {},
      handler: () => undefined,
    });
    assert.throws(() => route('get', '/v1/{env}/things/{id}', declaration(z.object({ env: z.string() }))), {
      message: 'GET /v1/{env}/things/{id}: params name env, the path env, id',
    });
    assert.throws(() => route('get', '/v1/things', declaration(z.object({ id: z.string() }))), /the path nothing/);
    assert.throws(() => route('get', '/v1/{env}', declaration()), /params name nothing/);
    assert.doesNotThrow(() => route('get', '/v1/{env}', declaration(z.object({ env: z.string() }))));
  });
});
