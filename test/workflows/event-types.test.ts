import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_EVENT_TYPES } from '../../src/workflows/event-types';
import { EVENT_TYPE_CATALOG_ID } from '../../src/domain/ids';
import { always } from '../helpers/receiver';
import { timeSkippingSuite } from '../helpers/temporal';

describe('the event-type catalog entity, with time skipping', () => {
  const suite = timeSkippingSuite({}, always(200));

  it(`holds ${MAX_EVENT_TYPES} types at most, refusing the next with a 422 and changing nothing`, async () => {
    const { service } = suite.ts;
    for (let i = 0; i < MAX_EVENT_TYPES; i++) {
      await service.createEventType({ name: `bulk.t${String(i).padStart(3, '0')}`, kind: 'event' });
    }
    await assert.rejects(service.createEventType({ name: 'bulk.one-more', kind: 'event' }), (err: Error) => {
      assert.equal((err as { httpStatus?: number }).httpStatus, 422);
      assert.match(err.message, new RegExp(`${MAX_EVENT_TYPES} types at most`));
      return true;
    });
    await assert.rejects(service.getEventType('bulk.one-more'), /not found/);
    assert.equal((await service.listEventTypes()).length, MAX_EVENT_TYPES);
  });

  it('continues as new before its history grows past its bound, and the catalog survives every run', async () => {
    const { service, client } = suite.ts;
    const handle = client.workflow.getHandle(EVENT_TYPE_CATALOG_ID);
    const firstRun = (await handle.describe()).runId;
    // Each change is an Update and a memo of the whole catalog (200 types): 300 of them are past 500 events.
    for (let i = 0; i < 300; i++) {
      await service.changeEventType('bulk.t007', { description: `change ${i}` });
    }
    const description = await handle.describe();
    assert.notEqual(description.runId, firstRun, 'a new run');
    assert.ok(description.historyLength < 500, `the current run has ${description.historyLength} events`);
    const type = await service.getEventType('bulk.t007');
    assert.equal(type.description, 'change 299');
    assert.equal((await service.listEventTypes()).length, MAX_EVENT_TYPES, 'nothing lost across the runs');
  });
});
