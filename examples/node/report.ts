// Typed use of the SDK (checked with `tsc --strict` by the test command): validate a
// migration, then read the stored report and print what a reviewer needs.
import { DatabaseConsultant, DatabaseConsultantError, TestRun, Finding } from 'dbconsultant';

export async function review(databaseUrl: string, migrationScript: string): Promise<number> {
  const dbConsultant = await DatabaseConsultant.open();
  try {
    const run: TestRun = await dbConsultant.validateSchema({ databaseUrl, migrationScript, requireHumanApproval: true });
    const report = await dbConsultant.getReport(run.testRunId);
    const blocking: Finding[] = report.findings.filter((f) => f.severity === 'critical' || f.severity === 'high');
    console.log(`${report.status} risk=${report.riskScore} ${report.summary}`);
    for (const f of blocking) console.log(`  ${f.rule} at line ${f.line ?? '-'}: ${f.message}`);
    return report.status === 'failed' ? 1 : 0;
  } catch (error) {
    if (error instanceof DatabaseConsultantError) {
      console.error(`${error.code}: ${error.message}`);
      return 3;
    }
    throw error;
  }
}
