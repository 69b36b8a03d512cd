// k6 run -e BASE_URL=http://localhost:8080 loadtest/k6/smoke.js
// The "smoke" scenario of loadtest/scenarios.json; see loadtest/README.md.
import { iterate, optionsFor } from './lib.js';

export const options = optionsFor('smoke');

export default function () {
  iterate('smoke');
}
