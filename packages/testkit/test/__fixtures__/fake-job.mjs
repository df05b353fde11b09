// A stand-in for a job script, for the crash harness's own tests: no Sluice job, just the protocol.
//   FAKE_MODE=work    prints the markers, then "works" in 10 ms steps, keeping its progress in
//                     FAKE_STATE (a file) so a restarted run resumes; exits 0 after FAKE_WORK_MS in all.
//   FAKE_MODE=fail    writes an error to stderr and exits 3.
//   FAKE_MODE=silent  never prints SLUICE_RUNNING and never ends.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'

const mode = process.env.FAKE_MODE ?? 'work'
if (mode === 'fail') {
  console.error('fake-job: boom, the sink refused the record')
  process.exit(3)
}
if (mode === 'silent') {
  setInterval(() => {}, 1000)
} else {
  const state = process.env.FAKE_STATE
  const workMs = Number(process.env.FAKE_WORK_MS ?? 500)
  let progress = existsSync(state) ? Number(readFileSync(state, 'utf8')) : 0
  process.stdout.write(`SLUICE_FIRST_RECORD_MS ${Math.round(performance.now())}\nSLUICE_RUNNING\n`)
  setInterval(() => {
    progress += 10
    writeFileSync(state, String(progress))
    if (progress >= workMs) process.exit(0)
  }, 10)
}
