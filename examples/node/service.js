'use strict';
// A small HTTP service: POST /validate {"databaseUrl", "migrationSql" | "migrationScript"}
// validates the migration (sandboxed) and answers with the run; GET /runs/:id reads the
// stored report. Plain node:http, no framework.
//
//   node examples/node/service.js 8080
//   curl -s localhost:8080/validate -d '{"databaseUrl":"sqlite://examples/shop.db","migrationScript":"examples/migrations/001_index_order_status.sql"}'

const http = require('node:http');
const path = require('node:path');
const { DatabaseConsultant, DatabaseConsultantError } = require(path.join(__dirname, '..', '..', 'bindings-node'));

const STATUS_BY_CODE = { INVALID_INPUT: 400, NOT_FOUND: 404, APPROVAL_STATE: 409, CONNECTION: 502, SANDBOX: 502 };

async function createServer(options = {}) {
  const dbConsultant = await DatabaseConsultant.open(options);
  return http.createServer(async (req, res) => {
    const reply = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    try {
      if (req.method === 'POST' && req.url === '/validate') {
        let body = '';
        for await (const chunk of req) body += chunk;
        const { databaseUrl, migrationSql, migrationScript } = JSON.parse(body);
        const run = await dbConsultant.validateSchema({ databaseUrl, migrationSql, migrationScript, triggerType: 'pr' });
        return reply(200, { testRunId: run.testRunId, status: run.status, riskScore: run.riskScore, summary: run.summary });
      }
      const match = req.method === 'GET' && /^\/runs\/([\w-]+)$/.exec(req.url);
      if (match) return reply(200, await dbConsultant.getReport(match[1]));
      return reply(404, { error: 'not found' });
    } catch (error) {
      if (error instanceof DatabaseConsultantError) return reply(STATUS_BY_CODE[error.code] || 500, { code: error.code, error: error.message });
      if (error instanceof SyntaxError || error instanceof TypeError) return reply(400, { error: error.message });
      return reply(500, { error: String(error) });
    }
  });
}

if (require.main === module) {
  const port = Number(process.argv[2] || 8080);
  createServer().then((server) => server.listen(port, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${port}`)));
}

module.exports = { createServer };
