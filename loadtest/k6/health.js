// k6 run -e BASE_URL=http://localhost:8080 loadtest/k6/health.js
// The "health" scenario of loadtest/scenarios.json; see loadtest/README.md.
import { iterate, optionsFor } from './lib.js';

export const options = optionsFor('health');

export default function () {
  iterate('health');
}
