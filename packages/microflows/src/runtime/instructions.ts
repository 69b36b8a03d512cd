/** Adding client instructions to a run. */
import type { MxObjectValue } from '@runplane/expressions';
import type { ClientInstruction } from '../types.js';
import type { RunState } from './state.js';

/** Adds an instruction for the client. */
export function instruct(run: RunState, instruction: ClientInstruction): void {
  run.instructions.push(instruction);
}

/** Asks the client to refresh objects (each once per run). */
export function refreshInClient(run: RunState, objects: readonly MxObjectValue[]): void {
  for (const object of objects) {
    if (run.refreshed.has(object.id)) continue;
    run.refreshed.add(object.id);
    run.instructions.push({ kind: 'refreshObject', objectId: object.id, entity: object.entity });
  }
}
