import { describe, expect, it } from 'vitest'
import { StatusWatermarkValve, type ValveOutput } from './status-watermark-valve.js'

function recorder(): ValveOutput & { log: string[] } {
  const log: string[] = []
  return { log, emitWatermark: (w) => log.push(`wm:${w}`), emitWatermarkStatus: (s) => log.push(s) }
}

describe('StatusWatermarkValve', () => {
  it('emits the minimum over channels, only when it rises', () => {
    const valve = new StatusWatermarkValve(3)
    const out = recorder()
    valve.inputWatermark(10, 0, out)
    valve.inputWatermark(5, 1, out)
    expect(out.log).toEqual([])
    valve.inputWatermark(7, 2, out)
    expect(out.log).toEqual(['wm:5'])
    valve.inputWatermark(4, 1, out) // goes back: ignored
    valve.inputWatermark(20, 1, out)
    expect(out.log).toEqual(['wm:5', 'wm:7'])
    valve.inputWatermark(30, 2, out)
    expect(out.log).toEqual(['wm:5', 'wm:7', 'wm:10'])
  })

  it('an idle channel does not hold the watermark back; its watermarks are ignored while idle', () => {
    const valve = new StatusWatermarkValve(2)
    const out = recorder()
    valve.inputWatermark(10, 0, out)
    expect(out.log).toEqual([])
    valve.inputWatermarkStatus('IDLE', 1, out)
    expect(out.log).toEqual(['wm:10'])
    valve.inputWatermark(50, 1, out) // idle: ignored
    valve.inputWatermark(20, 0, out)
    expect(out.log).toEqual(['wm:10', 'wm:20'])
  })

  it('a channel that turns active again only counts once it has caught up', () => {
    const valve = new StatusWatermarkValve(2)
    const out = recorder()
    valve.inputWatermark(5, 1, out)
    valve.inputWatermarkStatus('IDLE', 1, out)
    valve.inputWatermark(30, 0, out)
    expect(out.log).toEqual(['wm:30'])
    valve.inputWatermarkStatus('ACTIVE', 1, out)
    valve.inputWatermark(10, 1, out) // behind the output: not aligned, does not pull it back
    valve.inputWatermark(40, 0, out)
    expect(out.log).toEqual(['wm:30', 'wm:40'])
    valve.inputWatermark(35, 1, out) // caught up with 40? no: 35 < 40, still unaligned
    valve.inputWatermark(50, 0, out)
    expect(out.log).toEqual(['wm:30', 'wm:40', 'wm:50'])
    valve.inputWatermark(60, 1, out) // aligned now
    valve.inputWatermark(70, 0, out)
    expect(out.log).toEqual(['wm:30', 'wm:40', 'wm:50', 'wm:60'])
  })

  it('all channels idle: flushes the highest watermark, then IDLE; the first active channel makes it ACTIVE', () => {
    const valve = new StatusWatermarkValve(2)
    const out = recorder()
    valve.inputWatermark(10, 0, out)
    valve.inputWatermark(20, 1, out)
    expect(out.log).toEqual(['wm:10'])
    valve.inputWatermarkStatus('IDLE', 1, out)
    expect(out.log).toEqual(['wm:10'])
    valve.inputWatermarkStatus('IDLE', 0, out)
    expect(out.log).toEqual(['wm:10', 'wm:20', 'IDLE'])
    expect(valve.status).toBe('IDLE')
    valve.inputWatermarkStatus('ACTIVE', 0, out)
    expect(out.log).toEqual(['wm:10', 'wm:20', 'IDLE', 'ACTIVE'])
    valve.inputWatermark(25, 0, out)
    expect(out.log.at(-1)).toBe('wm:25')
  })

  it('an ended channel holds nothing back; one finished silently does not advance the output by itself', () => {
    const valve = new StatusWatermarkValve(2)
    const out = recorder()
    valve.inputWatermark(10, 0, out)
    valve.inputFinishedSilently(1)
    expect(out.log).toEqual([])
    valve.inputWatermark(15, 0, out)
    expect(out.log).toEqual(['wm:15'])
    const ended = new StatusWatermarkValve(2)
    const out2 = recorder()
    ended.inputWatermark(10, 0, out2)
    ended.inputEnded(1, out2)
    expect(out2.log).toEqual(['wm:10'])
    ended.inputEnded(0, out2)
    expect(out2.log).toEqual(['wm:10', 'wm:Infinity'])
  })
})
