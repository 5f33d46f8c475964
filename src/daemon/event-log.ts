/** Every event on the bus becomes one JSON log line, at a level that follows its severity. */
import type { EventBus } from '../events/bus.js';
import type { LvsEvent } from '../events/types.js';
import type { Logger } from '../log/logger.js';

export function logEvents(bus: EventBus<LvsEvent>, logger: Logger): () => void {
  return bus.on((e) => {
    const fields = { event: e };
    if (e.severity === 'critical') logger.error(fields, `event ${e.type}`);
    else if (e.severity === 'warning') logger.warn(fields, `event ${e.type}`);
    else logger.info(fields, `event ${e.type}`);
  });
}
