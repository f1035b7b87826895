/**
 * The map commands of section X.7 on the wire: a decoded request in, the device's answer out, with
 * the map table doing the work. Used as (part of) the front end's {@link CommandExecutor}.
 *
 * @module
 */
import {
  definitionOfMapCreate,
  NextKeyFlag,
  VIRTIO_NET_ERR,
  VIRTIO_NET_OK,
  XdpStatus,
  type ControlRequest,
  type ControlResult,
} from '../../codec/index.js';
import type { DeviceMaps, Outcome } from './maps.js';

/** The commands this module answers. */
export type MapCommandRequest = Extract<
  ControlRequest,
  {
    /** A map command. */
    command:
      | 'MAP_CREATE'
      | 'MAP_FREE'
      | 'MAP_UPDATE'
      | 'MAP_LOOKUP'
      | 'MAP_DELETE'
      | 'MAP_GET_NEXT_KEY'
      | 'MAP_UPDATE_BATCH'
      | 'MAP_LOOKUP_BATCH';
  }
>;

/** Whether a request is a map command. */
export function isMapCommand(request: ControlRequest): request is MapCommandRequest {
  return request.command.startsWith('MAP_');
}

/** Executes one map command; `referenced` holds the handles the loaded program uses. */
export function executeMapCommand(
  maps: DeviceMaps,
  request: MapCommandRequest,
  referenced: ReadonlySet<number>,
): ControlResult {
  const answer = <T>(outcome: Outcome<T>, result: (value: T) => unknown): ControlResult => {
    const okay = outcome.status === XdpStatus.OK;
    return {
      command: request.command,
      ack: okay ? VIRTIO_NET_OK : VIRTIO_NET_ERR,
      status: outcome.status,
      result: okay ? result(outcome.value as T) : null,
    } as ControlResult;
  };
  switch (request.command) {
    case 'MAP_CREATE': {
      const outcome = maps.create(definitionOfMapCreate(request.data));
      return answer(outcome, (map_handle) => ({ map_handle }));
    }
    case 'MAP_FREE':
      return answer(maps.free(request.data.map_handle, referenced), () => null);
    case 'MAP_UPDATE': {
      const d = request.data;
      return answer(maps.update(d.map_handle, d.key_size, d.value_size, d.key, d.value, d.flags), () => null);
    }
    case 'MAP_LOOKUP': {
      const d = request.data;
      return answer(maps.lookup(d.map_handle, d.key_size, d.value_size, d.key), (value) => ({ value }));
    }
    case 'MAP_DELETE': {
      const d = request.data;
      return answer(maps.delete(d.map_handle, d.key_size, d.key), () => null);
    }
    case 'MAP_UPDATE_BATCH': {
      const d = request.data;
      const outcome = maps.updateBatch(d.map_handle, d.key_size, d.value_size, d.count, d.elements, d.flags);
      return answer(outcome, () => null);
    }
    case 'MAP_LOOKUP_BATCH': {
      const d = request.data;
      const first = (d.flags & NextKeyFlag.FIRST) !== 0;
      const outcome = maps.lookupBatch(
        d.map_handle,
        d.key_size,
        d.value_size,
        first ? null : d.key,
        d.max_count,
      );
      return answer(outcome, (batch) => batch);
    }
    case 'MAP_GET_NEXT_KEY': {
      const d = request.data;
      const first = (d.flags & NextKeyFlag.FIRST) !== 0;
      return answer(maps.nextKey(d.map_handle, d.key_size, first ? null : d.key), (next_key) => ({
        next_key,
      }));
    }
  }
}
