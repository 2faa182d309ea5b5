// The national platform's own catalog downloads (交易 1301 西药中成药目录, 1302 中药饮片目录,
// 1305 医疗服务项目目录, 1306 医用耗材目录; fetched as a zip through 9101/9102) are tab-separated
// text without a header: a field is known by its position only. The positions below are the ones
// public HIS code reads these files with:
//   - liutao2019/IBORN_HIS_ALL, MEDICAL/广州医保/API.GZSI/UI/frmCatalogueDownload.cs (InsertYB1301,
//     InsertYB1302, InsertYB1305, InsertYB1306: line.Split('\t'), values[0] … values[91]);
//   - for 1301, newtouch-cloud/openhis's G_yb_wm_tcmpat_info_bVO (the same fields in the same
//     order, national names: MED_LIST_CODG, DRUG_PRODNAME, GENNAME_CODG, DRUG_GENNAME, … RID,
//     CRTE_TIME, UPDT_TIME, VER, VER_NAME, … NAT_HI_DRUGLIST_DOSFORM, NAT_HI_DRUGLIST_CHRGITM_LV).
// A file is read with a layout only when every line has exactly that many fields: a download of
// another version (with fields added) is refused, saying so, never read with shifted columns.
// 1312 (医保目录信息查询) is a paged query, not a download: its answer, saved with its field
// names as headers, is an ordinary catalog file. Layouts for the other downloads (1303, 1307 …)
// are not needed here; 1317 (mapping) and 1318 (price caps) answers are read by their headers.
import type { CatalogField } from './columns.ts'
import type { ItemType } from './record.ts'

export interface Layout {
  id: '1301' | '1302' | '1305' | '1306'
  label: string
  columns: number
  item_type: ItemType
  fields: Partial<Record<CatalogField | 'national_lv', number>>
}

export const LAYOUTS: readonly Layout[] = [
  {
    id: '1301',
    label: '1301 西药中成药目录',
    columns: 92,
    item_type: 'drug',
    // 0 医疗目录编码, 1 药品商品名, 2 通用名编号, 3 药品通用名, 9 药品剂型, 10 药品剂型名称, 13 药品规格,
    // 36 开始日期, 37 结束日期, 57 限制使用标志, 70 基本药物标志, 74 医保谈判药品标志, 78 有效标志,
    // 91 国家医保药品目录甲乙类标识 (the national list's class: the level nationwide).
    fields: { code: 0, prodname: 1, genname_codg: 2, genname: 3, dosform: 9, dosform_name: 10, spec: 13, begndate: 36, enddate: 37, lmt_used_flag: 57, bas: 70, nego: 74, vali_flag: 78, national_lv: 91 }
  },
  {
    id: '1302',
    label: '1302 中药饮片目录',
    columns: 29,
    item_type: 'herb',
    // 0 医疗目录编码, 1 单味药名称, 11 开始日期, 12 结束日期, 13 有效标志
    fields: { code: 0, name: 1, begndate: 11, enddate: 12, vali_flag: 13 }
  },
  {
    id: '1305',
    label: '1305 医疗服务项目目录',
    columns: 16,
    item_type: 'service',
    // 0 医疗目录编码, 6 有效标志, 9 医疗服务项目名称, 11 开始日期, 12 结束日期
    fields: { code: 0, vali_flag: 6, name: 9, begndate: 11, enddate: 12 }
  },
  {
    id: '1306',
    label: '1306 医用耗材目录',
    columns: 71,
    item_type: 'material',
    // 0 医疗目录编码, 1 耗材名称, 3 医保通用名代码, 4 医保通用名, 7 规格, 33 限制使用标志, 46 开始日期,
    // 47 结束日期, 67 有效标志
    fields: { code: 0, name: 1, genname_codg: 3, genname: 4, spec: 7, lmt_used_flag: 33, begndate: 46, enddate: 47, vali_flag: 67 }
  }
]

const CODE_LIKE = /^[A-Za-z0-9]{5,50}$/

/** The layout of a headerless row: exactly its number of fields, and a national code first. */
export function layoutOf (cells: readonly string[]): Layout | undefined {
  if (!CODE_LIKE.test((cells[0] ?? '').trim())) return undefined
  return LAYOUTS.find((l) => l.columns === cells.length)
}
